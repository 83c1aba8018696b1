// `ringbuf-studio test` and `run … -- CMD` / `run --filter` as a user runs them: the bundled
// CLI (dist/cli.js) in a child process, on the local kernel (and once in process, for paths
// taken against the command's own working directory).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/command';
import { testCommand } from '../../../cli/commands/test';
import { findHelperBinary } from '../../../core/transport/helperBinaries';
import { startChild } from '../../support/child';
import { available } from '../../support/prereq';
import { prepare, root } from '../run/support';

const fixtures = path.join(root, 'test/fixtures/livetest');
const xsd = path.join(fixtures, 'junit/jenkins-junit.xsd');
const execve = path.join(root, 'bpf-templates/execve/execve.bpf.c');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-livetest-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

async function cli(args: string[], cwd = root): Promise<CliResult> {
  const run = startChild(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd });
  const code = await run.exited;
  return { code, out: run.stdout(), err: run.stderr() };
}

function validJunit(file: string): void {
  execFileSync('xmllint', ['--noout', '--schema', xsd, file], { stdio: 'pipe' });
}

/** What a CLI run printed, for assertion messages. */
function shown(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;
}

describe.skipIf(!available('bpf'))('ringbuf-studio test (the CLI)', () => {
  beforeAll(() => prepare({ cli: true }));

  it("every template's .rbtest.yaml passes through `test bpf-templates/`, with a line per test and the summary", async () => {
    const r = await cli(['test', 'bpf-templates/']);
    expect(r.code, shown(r)).toBe(0);
    expect(r.out).toMatch(/^bpf-templates\/execve\/execve\.rbtest\.yaml \[local\]\n ✓ exec of true is seen \d+ ms\n/m);
    const passed = Number(/^(\d+) passed, 0 failed$/m.exec(r.out)?.[1]);
    expect(passed).toBeGreaterThanOrEqual(15);
    expect(r.out.match(/^ ✓ /gm)).toHaveLength(passed);
    expect(r.out).not.toMatch(/^ [✗!] /m);
  });

  it('a deliberately failing test exits 1; its JUnit failure states the expectation, the counts and the closest events, and validates', async () => {
    const out = path.join(tmp, 'failing.xml');
    const r = await cli(['test', 'test/fixtures/livetest/failing.rbtest.yaml', '--reporter', 'junit', '--output', out]);
    expect(r.code, shown(r)).toBe(1);
    // Progress stays on stdout (the report went to the file).
    expect(r.out).toMatch(/^ ✗ wrong count \d+ ms\n {5}test\/fixtures\/livetest\/failing\.rbtest\.yaml:11:9: expectation 1: `\$trigger && comm == "true"` expected count 2, saw 1 /m);
    expect(r.out).toMatch(/^1 passed, 3 failed$/m);
    expect(r.out).not.toContain('<?xml');
    validJunit(out);
    const xml = fs.readFileSync(out, 'utf8');
    const failure = /<testcase name="wrong count"[^>]*>\s*<failure message="([^"]*)" type="expectation">([^<]*)<\/failure>/.exec(xml);
    expect(failure?.[1]).toMatch(/^expectation 1: `\$trigger &amp;&amp; comm == &quot;true&quot;` expected count 2, saw 1 \(\d+ events? in the window, 1 from the trigger&apos;s process tree\)$/);
    expect(failure?.[2]).toMatch(/last 1 of the 1 events from the trigger&apos;s process tree \(\d+ in the window\):\n {2}\{&quot;pid&quot;:\d+,&quot;ppid&quot;:\d+,&quot;uid&quot;:\d+,&quot;comm&quot;:&quot;true&quot;,&quot;filename&quot;:&quot;\/bin\/true&quot;\} {2}← trigger/);
    expect(xml.match(/<failure /g)).toHaveLength(3);
  });

  it('--reporter junit without --output: the XML on stdout (valid), the progress on stderr', async () => {
    const r = await cli(['test', 'test/fixtures/livetest/failing.rbtest.yaml', '--reporter', 'junit', '--filter', 'passes']);
    expect(r.code, shown(r)).toBe(0);
    expect(r.out.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    const file = path.join(tmp, 'stdout.xml');
    fs.writeFileSync(file, r.out);
    validJunit(file);
    expect(r.out).toContain('<testcase name="passes" classname="test/fixtures/livetest/failing.rbtest.yaml [local]"');
    expect(r.err).toMatch(/^ ✓ passes \d+ ms$/m);
    expect(r.err).toMatch(/^1 passed, 0 failed$/m);
  });

  it('--filter NAME runs only the tests whose name contains NAME (any case); none matching is exit 1 that says so', async () => {
    const one = await cli(['test', 'test/fixtures/livetest/failing.rbtest.yaml', '--filter', 'WRONG COUNT', '--reporter', 'tap']);
    expect(one.code, shown(one)).toBe(1);
    expect(one.out).toMatch(/^TAP version 13\n1\.\.1\nnot ok 1 - test\/fixtures\/livetest\/failing\.rbtest\.yaml \[local\] › wrong count\n/);
    const none = await cli(['test', 'test/fixtures/livetest/failing.rbtest.yaml', '--filter', 'no such test']);
    expect(none.code, shown(none)).toBe(1);
    expect(none.err).toContain("ringbuf-studio test: no test name contains 'no such test' (--filter is a case-insensitive substring)");
  });

  it('--output FILE gets the chosen report (replacing what was there); the text progress still shows', async () => {
    const out = path.join(tmp, 'report.json');
    fs.writeFileSync(out, 'old');
    const r = await cli(['test', 'bpf-templates/execve/execve.rbtest.yaml', '--reporter', 'json', '--output', out]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.out).toMatch(/^3 passed, 0 failed$/m);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { passed: number; failed: number; suites: Array<{ target: string; tests: Array<{ name: string; status: string }> }> };
    expect(report).toMatchObject({ passed: 3, failed: 0 });
    expect(report.suites[0]?.tests.map((t) => `${t.status} ${t.name}`)).toEqual(['passed exec of true is seen', 'passed a shell line reports each exec with its parent', 'passed no event for a failed exec']);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp'))).toEqual([]);
    const bad = await cli(['test', 'bpf-templates/execve/execve.rbtest.yaml', '--output', path.join(tmp, 'no/such/dir/report.txt')]);
    expect(bad.code, shown(bad)).toBe(1);
    expect(bad.err).toMatch(/ringbuf-studio test: cannot write .*no\/such\/dir\/report\.txt: no such file or directory \(ENOENT\)/);
  });

  it("in process, relative --output and --helper are taken against the command's working directory, not the process's", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    for (const f of ['execve.bpf.c', 'execve.h', 'execve.rbtest.yaml']) fs.copyFileSync(path.join(root, 'bpf-templates/execve', f), path.join(dir, f));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync(findHelperBinary('x86_64'), path.join(dir, 'bin/ringbuf-helper'));
    fs.chmodSync(path.join(dir, 'bin/ringbuf-helper'), 0o755);
    let out = '';
    const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (out += t), isTty: false, cwd: dir, signal: new AbortController().signal };
    expect(process.cwd()).not.toBe(dir);
    const code = await testCommand.run(['execve.rbtest.yaml', '--reporter', 'json', '--output', 'report.json', '--helper', 'bin/ringbuf-helper'], io);
    expect(code, out).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'))).toMatchObject({ passed: 3, failed: 0 });
    expect(fs.existsSync(path.join(process.cwd(), 'report.json'))).toBe(false);
  });

  it('bad usage exits 2 with the cause and the usage', async () => {
    const cases: Array<[string[], string]> = [
      [['test', '--reporter', 'xml'], '--reporter xml: expected one of text, junit, json, tap'],
      [['test', 'no/such/dir'], 'no/such/dir does not exist'],
      [['test', '--target', 'qemu:debian-9'], "--target qemu:debian-9: no built-in VM kernel named 'debian-9'"],
      [['test', '--target', 'local', '--target', 'local'], '--target local is given twice'],
      [['test', '--filtre', 'x'], 'unknown argument --filtre (did you mean --filter?)'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, shown(r)).toBe(2);
      expect(r.err).toContain(`ringbuf-studio test: ${message}`);
      expect(r.err).toContain('usage: ringbuf-studio test [files|dirs…] [options]');
    }
  });

  it('a file that does not match the format is one error under its own header, at the offending key', async () => {
    const r = await cli(['test', 'test/fixtures/livetest/bad-schema.rbtest.yaml']);
    expect(r.code, shown(r)).toBe(1);
    expect(r.out).toMatch(/^test\/fixtures\/livetest\/bad-schema\.rbtest\.yaml \[local\]\n ! bad-schema\.rbtest\.yaml \(error\) 0 ms\n {5}test\/fixtures\/livetest\/bad-schema\.rbtest\.yaml:4:5: test 1 \(typo\) lacks `expect`/m);
    expect(r.out).toMatch(/^0 passed, 1 failed$/m);
  });

  it('a trigger that does not exist is an error with its line, never a crash; the other tests still run', async () => {
    const r = await cli(['test', 'test/fixtures/livetest/erroring.rbtest.yaml']);
    expect(r.code, shown(r)).toBe(1);
    expect(r.out).toMatch(
      /^ ! missing trigger \(error\) \d+ ms\n {5}test\/fixtures\/livetest\/erroring\.rbtest\.yaml:5:5: the trigger \/nonexistent\/trigger does not exist on local; to exec a missing file on purpose, write it as a shell line: shell: "\/nonexistent\/trigger"$/m,
    );
    expect(r.out).toMatch(/^ ✓ still runs after the others \d+ ms$/m);
    expect(r.out).toMatch(/^1 passed, 4 failed$/m);
    expect(`${r.out}${r.err}`).not.toMatch(/\n\s+at .*\.(js|ts):\d+/);
  });
});

describe.skipIf(!available('bpf'))('ringbuf-studio run … -- CMD and run --filter', () => {
  beforeAll(() => prepare({ cli: true }));

  it('run -- /bin/true prints the events of /bin/true, then drains, stops and exits 0', async () => {
    const r = await cli(['run', execve, '--format', 'jsonl', '--', '/bin/true']);
    expect(r.code, shown(r)).toBe(0);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e.comm === 'true' && e.filename === '/bin/true').length).toBeGreaterThanOrEqual(1);
    expect(r.err).toMatch(/ringbuf-studio: `\/bin\/true` ended \(exit status 0\); draining\n/);
    expect(r.err).toMatch(/\d+ events? delivered \(stopped\), 0 left in the ring, 0 dropped by the program; detached\n$/);
  });

  it("CMD's own output goes to stderr: stdout stays one JSON event per line", async () => {
    const r = await cli(['run', execve, '--format', 'jsonl', '--', '/bin/sh', '-c', 'echo "{not json"; echo oops >&2; exec /bin/true']);
    expect(r.code, shown(r)).toBe(0);
    const lines = r.out.trim().split('\n');
    for (const l of lines) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
    expect(lines.some((l) => (JSON.parse(l) as { comm?: string }).comm === 'true')).toBe(true);
    expect(r.err).toContain('{not json\n');
    expect(r.err).toContain('oops\n');
  });

  it('run --filter \'comm == "true"\' prints only the matching events', async () => {
    const r = await cli(['run', execve, '--format', 'jsonl', '--filter', 'comm == "true"', '--', '/bin/sh', '-c', '/bin/true; /bin/echo hi > /dev/null']);
    expect(r.code, shown(r)).toBe(0);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.every((e) => e.comm === 'true')).toBe(true);
    expect(r.err).toMatch(/ringbuf-studio: (\d+) of (\d+) events matched --filter\n/);
  });

  it('a filter that does not parse is a usage error showing its position; an unknown field names the fields', async () => {
    const bad = await cli(['run', execve, '--filter', 'comm = "true"', '--', '/bin/true']);
    expect(bad.code, shown(bad)).toBe(2);
    expect(bad.err).toContain(`ringbuf-studio run: --filter does not parse: '=' at 6: use '==' to compare\n    comm = "true"\n         ^\n`);
    const unknown = await cli(['run', execve, '--filter', 'comn == "true"', '--', '/bin/true']);
    expect(unknown.code, shown(unknown)).toBe(2);
    expect(unknown.err).toContain("--filter does not fit the program: unknown field 'comn' at 1 (fields: pid, ppid, uid, comm, filename)\n    comn == \"true\"\n    ^^^^\n");
  });

  it('Ctrl-C stops the run and CMD: exit 0, the command is gone', async () => {
    const marker = `${31 + Math.random()}`.slice(0, 8); // a unique argument to find the sleep by
    const run = startChild(process.execPath, [path.join(root, 'dist/cli.js'), 'run', execve, '--format', 'jsonl', '--', '/bin/sleep', marker], { cwd: root });
    const sleeping = (): boolean =>
      fs.readdirSync('/proc').some((p) => {
        try {
          return /^\d+$/.test(p) && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `/bin/sleep\0${marker}\0`;
        } catch {
          return false; // exited while we looked
        }
      });
    const deadline = Date.now() + 30_000;
    while (!sleeping() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(sleeping(), run.stderr()).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/events? delivered \(interrupted\).*; detached\n$/);
    expect(sleeping()).toBe(false);
  });

  it('a CMD that does not exist ends the run with a clear error and exit 1; -- without a command is bad usage', async () => {
    const r = await cli(['run', execve, '-q', '--', '/nonexistent/cmd']);
    expect(r.code, shown(r)).toBe(1);
    expect(r.err).toContain('the command `/nonexistent/cmd` does not exist on local');
    const empty = await cli(['run', execve, '--']);
    expect(empty.code, shown(empty)).toBe(2);
    expect(empty.err).toContain('ringbuf-studio run: -- needs a command to run: run PROG -- CMD [ARGS…]');
  });
});
