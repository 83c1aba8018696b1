// `ringbuf-studio lint`: the command's run() with a captured CliIo, and the real
// bundled CLI (esbuild of cli/main.ts, as scripts/build.mjs does) as a child process.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/command';
import { CliUsageError } from '../../../cli/command';
import { lintCommand } from '../../../cli/commands/lint';
import { repoRoot } from '../../support/compile';
import { compileText, fixture, fixturesDir } from '../lint/support';

const run = promisify(execFile);

async function runLint(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTty: false, cwd: fixturesDir, signal: new AbortController().signal };
  const code = await lintCommand.run(argv, io);
  return { code, stdout, stderr };
}

interface JsonDiag { file: string; line: number; column: number; endLine: number; endColumn: number; severity: string; code: string; message: string }

describe('ringbuf-studio lint (command)', () => {
  it('--format json prints the fixed shape and exits 0 when there are only warnings', async () => {
    const r = await runLint(['size_1000.bpf.c', '--format', 'json']);
    expect(r.code).toBe(0);
    const diags = JSON.parse(r.stdout) as JsonDiag[];
    expect(diags).toEqual([
      { file: 'size_1000.bpf.c', line: 9, column: 22, endLine: 9, endColumn: 26, severity: 'warning', code: 'RB002', message: expect.stringContaining('4096') },
    ]);
    expect(Object.keys(diags[0]!)).toEqual(['file', 'line', 'column', 'endLine', 'endColumn', 'severity', 'code', 'message']);
  });

  it('exits 1 when there is an error; text output reads like a compiler', async () => {
    const r = await runLint(['leak.bpf.c']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatch(/^leak\.bpf\.c:26:3: error: On this path .* \[RB008\]$/);
    expect(r.stderr).toBe('3 errors generated.\n');
  });

  it('a .c file is compiled for the object layer: a size from a header is found; --no-compile skips it', async () => {
    const both = await runLint(['size_header.bpf.c', '--format', 'json']);
    expect(both.stderr).toBe('');
    expect((JSON.parse(both.stdout) as JsonDiag[]).map((d) => `${d.code}@${d.line}`)).toEqual(['RB002@10', 'RB009@18']);
    const sourceOnly = await runLint(['size_header.bpf.c', '--format', 'json', '--no-compile']);
    expect((JSON.parse(sourceOnly.stdout) as JsonDiag[]).map((d) => `${d.code}@${d.line}`)).toEqual(['RB009@18']);
  });

  it('a file that does not compile is still linted from its source, with a note', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-cli-'));
    fs.writeFileSync(path.join(dir, 'broken.bpf.c'), fixture('size_1000.bpf.c').text.replace('return 0;\n}', 'return 0 /* missing semicolon */\n}'));
    let out = '';
    let err = '';
    const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTty: false, cwd: dir, signal: new AbortController().signal };
    expect(await lintCommand.run(['broken.bpf.c'], io)).toBe(0);
    expect(out).toMatch(/^broken\.bpf\.c:9:22: warning: .*\[RB002\]\n$/);
    expect(err).toMatch(/^note: broken\.bpf\.c does not compile \(1 clang error; see ringbuf-studio build\); only the source checks ran\n/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a clean file prints nothing and exits 0', async () => {
    expect(await runLint(['good.bpf.c'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('--page-size changes what is valid', async () => {
    const src = `#include <bpf/bpf_helpers.h>\nstruct {\n\t__uint(type, BPF_MAP_TYPE_RINGBUF);\n\t__uint(max_entries, 8192);\n} rb SEC(".maps");\n`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-cli-'));
    fs.writeFileSync(path.join(dir, 'p.bpf.c'), src);
    let out = '';
    const io: CliIo = { stdout: (t) => void (out += t), stderr: () => undefined, isTty: false, cwd: dir, signal: new AbortController().signal };
    expect(await lintCommand.run(['p.bpf.c', '--format', 'json'], io)).toBe(0);
    expect(JSON.parse(out)).toEqual([]);
    out = '';
    expect(await lintCommand.run(['p.bpf.c', '--format', 'json', '--page-size', '16384'], io)).toBe(0);
    expect((JSON.parse(out) as JsonDiag[]).map((d) => [d.code, d.line])).toEqual([['RB002', 4]]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bad arguments are usage errors; a missing file names the cause', async () => {
    await expect(runLint([])).rejects.toBeInstanceOf(CliUsageError);
    await expect(runLint(['x.c', '--page-size', '3000'])).rejects.toThrow(/power of two/);
    await expect(runLint(['x.c', '--format', 'xml'])).rejects.toThrow(/json or text/);
    await expect(runLint(['nope.bpf.c'])).rejects.toThrow(/cannot read nope\.bpf\.c: no such file/);
  });
});

describe('ringbuf-studio lint (bundled CLI, child process)', () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-cli-bundle-'));
  const cli = path.join(outDir, 'cli.js');
  let objectPath = '';

  beforeAll(async () => {
    await esbuild.build({ entryPoints: [path.join(repoRoot, 'cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: cli, logLevel: 'error', external: ['cpu-features', '*.node'] });
    const { text } = fixture('size_header.bpf.c');
    const bytes = await compileText(text, 'size_header');
    objectPath = path.join(outDir, 'size_header.bpf.o');
    fs.writeFileSync(objectPath, bytes);
  });

  async function cliRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [cli, 'lint', ...args], { cwd: fixturesDir });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('lints a C file with --format json and exit status 1 on errors', async () => {
    const r = await cliRun(['missing_size.bpf.c', '--format', 'json']);
    expect(r.code).toBe(1);
    const diags = JSON.parse(r.stdout) as JsonDiag[];
    expect(diags.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.line}`)).toEqual(['RB001@8', 'RB001@12']);
  });

  it('a .o input lints the object layer only', async () => {
    const r = await cliRun([objectPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${objectPath}:1:1: warning: Ringbuf map 'rb' has max_entries 12288, which is not a power of two: libbpf silently creates a ring of 16384 bytes (16 KiB) instead, and cilium/ebpf (bpf2go) refuses to load it ("ring map size … not a multiple of page size 4096"). Use 16384. [RB002]\n`);
  });

  it('--object adds the object layer to a source file', async () => {
    const r = await cliRun(['size_header.bpf.c', '--object', objectPath, '--format', 'json']);
    expect((JSON.parse(r.stdout) as JsonDiag[]).map((d) => `${d.code}@${d.line}`)).toEqual(['RB002@10', 'RB009@18']);
  });

  it('a corrupt object is a one-line error with exit 1, not a stack trace', async () => {
    const bad = path.join(outDir, 'bad.o');
    fs.writeFileSync(bad, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]));
    const r = await cliRun([bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ringbuf-studio lint: .*bad\.o/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help prints the usage', async () => {
    const { stdout } = await run(process.execPath, [cli, 'lint', '--help']);
    expect(stdout).toContain('--page-size N');
  });
});
