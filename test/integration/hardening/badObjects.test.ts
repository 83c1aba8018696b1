// `run` with objects that cannot load, and a verifier log far over 16 MiB: each ends in
// one clear message with a hint; the huge log reaches the user whole (summary on the
// terminal, the full log in a private file whose path is printed), nothing truncated.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/command';
import { printDiagnostics, runCommand } from '../../../cli/commands/run';
import { RunError, startRun } from '../../../core/run/run';
import { available } from '../../support/prereq';
import { makeBadObjects, type BadObjects } from '../../unit/hardening/badObjects';

function io(cwd: string): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTty: false, cwd, signal: new AbortController().signal, out: () => out, err: () => err };
}

describe.skipIf(!available('bpf'))('run: objects that cannot load', () => {
  let bad: BadObjects;
  beforeAll(async () => {
    bad = await makeBadObjects();
  });
  afterAll(() => fs.rmSync(bad.dir, { recursive: true, force: true }));

  const cases: Array<[keyof Omit<BadObjects, 'dir'>, RegExp, RegExp]> = [
    ['notElf', /notes\.bpf\.o: not an ELF file/, /pass a compiled BPF object/],
    ['notBpf', /true\.o: not a BPF object \(machine 62, x86-64\)/, /clang -O2 -g -target bpf/],
    ['bigEndian', /big-endian \(bpfeb\) but the target is little-endian; compile with -target bpf/, /host byte order/],
    ['noDebugInfo', /nog\.bpf\.o has no BTF .*compiled without -g/, /rebuild with -g/],
    ['btfStripped', /stripped\.bpf\.o has no BTF/, /rebuild with -g/],
    ['truncated', /truncated ELF header/, /rebuild/],
  ];
  it.each(cases)('%s: one message and a hint, exit 1, no libbpf errno text', async (key, message, hint) => {
    const t = io(bad.dir);
    const code = await runCommand.run([path.basename(bad[key]), '--count', '1', '--duration', '5'], t);
    expect(code).toBe(1);
    expect(t.err()).toMatch(message);
    expect(t.err()).toMatch(new RegExp(`hint: .*${hint.source}`));
    expect(t.err()).not.toMatch(/Unknown error|No such file or directory|\n\s+at /);
  }, 60_000);
});

describe.skipIf(!available('bpf'))('a verifier log over 16 MiB (log level 2)', () => {
  it('arrives whole: summary on its line, excerpt on the terminal, the full log in a 0600 file', async () => {
    const file = path.join(__dirname, 'fixtures/huge_verifier_log.bpf.c');
    const err = await startRun({ file, lint: false, logLevel: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    const run = err as RunError;
    expect(run.message).toMatch(/the verifier rejected program 'rbs_t_huge_log': R0 invalid mem access 'map_value_or_null'/);
    const d = run.diagnostics.find((x) => x.code === 'verifier')!;
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('REJECTED AT THE END')) + 1;
    expect(d.line).toBe(line);
    const log = d.detail!;
    expect(log.length).toBeGreaterThan(16 << 20);
    expect(log).toMatch(/^0: \(85\) call bpf_get_prandom_u32/m); // the start survived
    expect(log).toMatch(/invalid mem access 'map_value_or_null'\nprocessed \d+ insns/); // and the end
    expect(log).not.toMatch(/bytes of the log cut here/);

    const t = io(path.dirname(file));
    printDiagnostics(run.diagnostics, t);
    expect(t.err()).toContain(`huge_verifier_log.bpf.c:${line}:`);
    const m = /full log, (\d+) lines, ([\d.]+) MiB: (\S+verifier\.log)/.exec(t.err());
    expect(m, t.err().slice(0, 2000)).not.toBeNull();
    const saved = m![3]!;
    expect(fs.readFileSync(saved, 'utf8')).toBe(log);
    expect(fs.statSync(saved).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(saved)).mode & 0o777).toBe(0o700);
    expect(t.err().length).toBeLessThan(16 * 1024); // the terminal gets the excerpt, not 16 MiB
    fs.rmSync(path.dirname(saved), { recursive: true, force: true });
  }, 300_000);
});
