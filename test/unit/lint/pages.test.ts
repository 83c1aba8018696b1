// 16 KiB and 64 KiB pages (arm64 kernels built with CONFIG_ARM64_16K_PAGES / 64K_PAGES):
// a ring size is valid only as a power of two that is a multiple of the page size, so
// `4096 * 4` is fine on x86_64 and 16K arm64 but EINVAL-bound on 64K arm64. The linter
// (library and `ringbuf-studio lint --page-size N`) and startRun's checks against the
// target's HELLO must say so, name the page size and the target, and fix it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/command';
import { lintCommand } from '../../../cli/commands/lint';
import type { Diagnostic } from '../../../core/diagnostics';
import { lintFile, lintSource } from '../../../core/lint/index';
import { encodeHelperMessage, type Hello } from '../../../core/protocol/helper';
import { RunError, startRun } from '../../../core/run/run';
import type { HelperExit, HelperProcess, TargetConnection } from '../../../core/transport/types';
import { applyEdits } from '../../../core/source/edits';
import { compileText } from './support';

const ringOf = (size: string): string => `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event { __u32 pid; char comm[16]; };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ${size});
} events SEC(".maps");

SEC("tp/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;
const SIZE_LINE = 8;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-pages-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const ringDiags = (ds: Diagnostic[]): Diagnostic[] => ds.filter((d) => d.code === 'RB002');

describe('ring sizes on 16 KiB and 64 KiB pages (linter)', () => {
  const text = ringOf('4096 * 4');

  it('4096 * 4 is valid at 4 KiB and 16 KiB pages', async () => {
    const object = await compileText(text, 'pages-16k');
    for (const pageSize of [4096, 16384]) {
      expect(ringDiags(lintSource(text, 'p.bpf.c', { pageSize })), `source layer, page size ${pageSize}`).toEqual([]);
      expect(ringDiags(lintFile({ file: 'p.bpf.c', text, object }, { pageSize })), `both layers, page size ${pageSize}`).toEqual([]);
    }
  });

  it('4096 * 4 is flagged at 64 KiB on its line, naming the page size; the fix makes it 65536 and the fixed file is clean', async () => {
    const object = await compileText(text, 'pages-64k');
    const [d, ...rest] = ringDiags(lintFile({ file: 'p.bpf.c', text, object }, { pageSize: 65536 }));
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ line: SIZE_LINE, code: 'RB002', severity: 'warning' });
    expect(d?.message).toContain("'events' has max_entries 16384");
    expect(d?.message).toContain('not a multiple of the page size (65536)');
    expect(d?.message).toMatch(/ring of 65536 bytes \(64 KiB\)/);
    const fix = d?.fixes?.[0];
    expect(fix?.title).toMatch(/65536/);
    const fixed = applyEdits(text, fix!.edits);
    expect(fixed.split('\n')[SIZE_LINE - 1]).toMatch(/max_entries, (65536|16384 \* 4|64 \* 1024)\)/);
    const fixedObject = await compileText(fixed, 'pages-64k-fixed');
    expect(ringDiags(lintFile({ file: 'p.bpf.c', text: fixed, object: fixedObject }, { pageSize: 65536 }))).toEqual([]);
  });

  it('a ring smaller than a 16 KiB page (8192) is flagged at 16 KiB with the 16384 fix, not at 4 KiB', () => {
    const small = ringOf('8192');
    expect(ringDiags(lintSource(small, 'p.bpf.c', { pageSize: 4096 }))).toEqual([]);
    const [d] = ringDiags(lintSource(small, 'p.bpf.c', { pageSize: 16384 }));
    expect(d?.message).toContain('page size (16384)');
    expect(applyEdits(small, d!.fixes![0]!.edits)).toMatch(/max_entries, (16384|16 \* 1024)\)/);
  });

  it('refuses a page size that is no power of two', () => {
    expect(() => lintSource(text, 'p.bpf.c', { pageSize: 12288 })).toThrow(/12288 is not a power of two/);
  });
});

describe('ringbuf-studio lint --page-size', () => {
  const runLint = async (argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTty: false, cwd: work, signal: new AbortController().signal };
    return { code: await lintCommand.run(argv, io), stdout, stderr };
  };

  it('16384 passes, 65536 reports RB002 at the size with the page size in the message', async () => {
    fs.writeFileSync(path.join(work, 'ring16k.bpf.c'), ringOf('4096 * 4'));
    const ok = await runLint(['ring16k.bpf.c', '--no-compile', '--page-size', '16384', '--format', 'json']);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as Diagnostic[]).filter((d) => d.code === 'RB002')).toEqual([]);
    const bad = await runLint(['ring16k.bpf.c', '--no-compile', '--page-size=65536']);
    expect(bad.stdout).toMatch(new RegExp(`ring16k\\.bpf\\.c:${SIZE_LINE}:\\d+: warning: .*not a multiple of the page size \\(65536\\)`));
  });

  it('--page-size 12288 is a usage error that names good values', async () => {
    await expect(runLint(['ring16k.bpf.c', '--page-size', '12288'])).rejects.toThrow(/4096, 16384 or 65536/);
  });
});

/**
 * FAKE: the HELLO of an arm64 host with 64 KiB pages (we have no such host here). It
 * speaks HELLO, answers any LOAD with a load ERROR (it has no kernel) and exits on stdin
 * EOF — enough for startRun's checks, which run before anything is sent to load.
 */
function fakeArm64With64kPages(name: string): TargetConnection & { loadsReceived: number } {
  const hello: Hello = {
    protocol: 1,
    helper: '0.1.0',
    kernel: '6.1.0-arm64-64k',
    arch: 'aarch64',
    pageSize: 65536,
    btf: true,
    ringbuf: true,
    pid: 4242,
    uid: 0,
    features: { progTypes: { tracepoint: true }, attach: { tracepoint: true } },
  };
  const target = {
    name,
    identity: `fake:${name}`,
    capabilities: { sharesHostKernel: false, canUpload: false, canRunCommands: false },
    loadsReceived: 0,
    spawnHelper(): Promise<HelperProcess> {
      const stdout = new PassThrough();
      const stdin = new PassThrough();
      let resolveExit!: (e: HelperExit) => void;
      const exited = new Promise<HelperExit>((r) => (resolveExit = r));
      const exit = (): void => {
        stdout.end();
        resolveExit({ code: 0, signal: null });
      };
      stdin.on('data', () => {
        if (target.loadsReceived++ === 0) {
          // Asynchronously, like a real helper: a reply cannot arrive inside the write.
          setImmediate(() => stdout.write(encodeHelperMessage({ kind: 'error', error: { code: 'load', fatal: false, message: 'fake arm64 host: nothing loads here' } })));
        }
      });
      stdin.on('end', exit);
      stdin.resume();
      stdout.write(encodeHelperMessage({ kind: 'hello', hello }));
      return Promise.resolve({ stdout, stdin, stderr: new PassThrough(), exited, terminate: () => (exit(), Promise.resolve()) });
    },
    close: () => Promise.resolve(),
  };
  return target;
}

describe('startRun against an arm64 target with 64 KiB pages (fake HELLO)', () => {
  it('refuses a 4096 * 4 ring before load, naming the target and its page size', async () => {
    const file = path.join(work, 'ring.bpf.o');
    fs.writeFileSync(path.join(work, 'ring.bpf.c'), ringOf('4096 * 4'));
    fs.writeFileSync(file, await compileText(ringOf('4096 * 4'), 'pages-run'));
    const target = fakeArm64With64kPages('pi64k');
    // RB002 is a warning (libbpf rounds up); the object still loads. So check the override path, which is an error.
    const err = await startRun({ file, targets: [target], maxEntries: { events: 16384 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    const runErr = err as RunError;
    expect(runErr.stage).toBe('override');
    expect(runErr.target).toBe('pi64k');
    expect(runErr.message).toContain('--max-entries events=16384 is not a valid ring buffer size on pi64k (aarch64)');
    expect(runErr.message).toContain('multiple of the page size (65536); nearest valid: 65536 (64 KiB)');
    expect(runErr.hint).toMatch(/multiple of the page size/);
    expect(runErr.diagnostics[0]).toMatchObject({ line: SIZE_LINE + 1, severity: 'error', code: 'override' });
    expect(target.loadsReceived).toBe(0);
  });

  it('a lint error stops the run with a message naming the target, its page size and kernel', async () => {
    const leaky = ringOf('65536').replace('\tbpf_ringbuf_submit(e, 0);\n', '');
    fs.writeFileSync(path.join(work, 'leaky.bpf.c'), leaky);
    const file = path.join(work, 'leaky.bpf.o');
    fs.writeFileSync(file, await compileText(leaky, 'pages-leaky'));
    const target = fakeArm64With64kPages('pi64k');
    const err = (await startRun({ file, targets: [target] }).catch((e: unknown) => e)) as RunError;
    expect(err).toBeInstanceOf(RunError);
    expect(err.stage).toBe('lint');
    // (The file is the C source the object's line info names.)
    expect(err.message).toMatch(/^\S+\.bpf\.c has 1 ring buffer error for pi64k \(page size 65536, Linux 6\.1\.0-arm64-64k\); not loading it$/);
    expect(err.diagnostics.find((d) => d.severity === 'error')?.code).toBe('RB008');
    expect(target.loadsReceived).toBe(0);
  });

  it('accepts --max-entries events=65536 there and goes on to load', async () => {
    const file = path.join(work, 'ring.bpf.o');
    const target = fakeArm64With64kPages('pi64k');
    const err = await startRun({ file, targets: [target], maxEntries: { events: 65536 } }).catch((e: unknown) => e);
    expect(target.loadsReceived).toBeGreaterThan(0);
    expect((err as RunError).stage).toBe('load');
    expect((err as RunError).message).toContain('fake arm64 host');
  });
});
