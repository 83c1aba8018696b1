// The CLI as users run it: node dist/cli.js build|new|templates.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonDiagnostic } from '../../../core/diagnostics';
import { copyFixture, lineOf, tempDir } from '../compile/helpers';
import { cliPath, ensureCliBuilt } from '../../support/cli';

const repo = path.resolve(__dirname, '../../..');
const cli = cliPath;

function run(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  ensureCliBuilt();
});

describe('ringbuf-studio templates', () => {
  it('prints a table with name, min kernel and title', () => {
    const r = run(['templates'], repo);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+MIN KERNEL\s+TITLE$/);
    expect(lines.find((l) => l.startsWith('dynptr '))).toMatch(/^dynptr\s+5\.19\s+\S/);
    expect(lines).toHaveLength(8);
  });

  it('--format json prints the manifests', () => {
    const r = run(['templates', '--format', 'json'], repo);
    expect(r.status).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ name: string; main: string; minKernel: string }>;
    expect(list.find((t) => t.name === 'execve')).toMatchObject({ main: 'execve.bpf.c', minKernel: '5.8' });
  });

  it('a bad option is a usage error (exit 2)', () => {
    const r = run(['templates', '--colour'], repo);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: ringbuf-studio templates');
  });
});

describe('bad arguments: exit 2, the cause in one line, then the usage', () => {
  it.each([
    [['new', 'execve', 'x', '--arch', 'sparc'], '--arch sparc: expected one of x86, arm64, s390, powerpc, riscv', 'new'],
    [['build', 'p.bpf.c', '--page-size', '1000'], '--page-size 1000: expected a power of two such as 4096, 16384 or 65536', 'build'],
    [['build', 'p.bpf.c', '--format=yaml'], '--format yaml: expected json or text', 'build'],
    [['lint', 'p.bpf.c', '--kernel'], '--kernel needs a value', 'lint'],
    [['lint', 'p.bpf.c', '--page-size=3000'], '--page-size 3000: expected a power of two', 'lint'],
    [['probe', '--format', 'yaml'], '--format yaml: expected json or text', 'probe'],
    [['run', 'p.bpf.c', '--count', '0'], '--count 0: expected a positive whole number', 'run'],
    [['run'], 'no program given', 'run'],
    [['vmlinux', '--bogus'], 'unknown argument --bogus', 'vmlinux'],
    [['export-go', 'p.bpf.c'], 'expected <prog.bpf.c> <dir>', 'export-go'],
  ])('%j', (args, cause, command) => {
    const r = run(args, repo);
    expect(r.status).toBe(2);
    const [first, blank, usage] = r.stderr.split('\n');
    expect(first).toContain(`ringbuf-studio ${command}: ${cause}`);
    expect(blank).toBe('');
    expect(usage).toMatch(new RegExp(`^usage: ringbuf-studio ${command}`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('ringbuf-studio new + build', () => {
  const tmp = tempDir('cli');
  afterAll(() => tmp.cleanup());

  it('new scaffolds, lists the files and the next steps', () => {
    const r = run(['new', 'execve', 'myprog'], tmp.dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('myprog/execve.bpf.c');
    expect(r.stdout).toContain('myprog/.vscode/c_cpp_properties.json');
    expect(r.stdout).toContain('ringbuf-studio build myprog/execve.bpf.c');
    expect(fs.existsSync(path.join(tmp.dir, 'myprog', 'execve.h'))).toBe(true);
  });

  it('new into the same folder refuses (exit 1) and names the files', () => {
    const r = run(['new', 'execve', 'myprog'], tmp.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not overwriting existing files: .*execve\.bpf\.c/);
  });

  it('new with an unknown template lists the templates', () => {
    const r = run(['new', 'nope', 'x'], tmp.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('uprobe-readline');
  });

  it('build -o writes the object, prints nothing on stdout for a clean program, exit 0', () => {
    const r = run(['build', 'myprog/execve.bpf.c', '-o', 'out/execve.bpf.o'], tmp.dir);
    expect(r.stderr).toMatch(/built out\/execve\.bpf\.o in \d+ ms/);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const obj = fs.readFileSync(path.join(tmp.dir, 'out', 'execve.bpf.o'));
    expect(obj.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  });

  it('build --format json prints clang diagnostics like lint, exit 1 on error', () => {
    const file = copyFixture('diagnostics.bpf.c', tmp.dir);
    const text = fs.readFileSync(file, 'utf8');
    const r = run(['build', 'diagnostics.bpf.c', '--format', 'json', '-o', 'd.o'], tmp.dir);
    expect(r.status).toBe(1);
    const diags = JSON.parse(r.stdout) as JsonDiagnostic[];
    expect(diags.map((d) => [d.file, d.line, d.severity, d.code])).toEqual([
      ['diagnostics.bpf.c', lineOf(text, 'MISSING_SEMI'), 'error', 'clang'],
      ['diagnostics.bpf.c', lineOf(text, 'ASSIGN_IN_COND'), 'warning', '-Wparentheses'],
    ]);
    expect(Object.keys(diags[0] ?? {}).sort()).toEqual(['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'message', 'severity']);
    expect(fs.existsSync(path.join(tmp.dir, 'd.o'))).toBe(false);
  });

  it('build prints compiler-style lines in text mode', () => {
    const r = run(['build', 'diagnostics.bpf.c', '-o', 'd.o'], tmp.dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^diagnostics\.bpf\.c:\d+:\d+: error: expected ';' at end of declaration \[clang\]$/m);
  });

  it('build runs the linter on the compiled program (a 1000-byte ring → RB002)', () => {
    const src = fs.readFileSync(path.join(tmp.dir, 'myprog', 'execve.bpf.c'), 'utf8').replace('256 * 1024', '1000');
    fs.writeFileSync(path.join(tmp.dir, 'odd.bpf.c'), src);
    fs.copyFileSync(path.join(tmp.dir, 'myprog', 'execve.h'), path.join(tmp.dir, 'execve.h'));
    const r = run(['build', 'odd.bpf.c', '--format', 'json', '-o', 'odd.o'], tmp.dir);
    const diags = JSON.parse(r.stdout) as JsonDiagnostic[];
    expect(diags).toEqual([expect.objectContaining({ file: 'odd.bpf.c', code: 'RB002', line: lineOf(src, '1000') })]);
    expect(r.status).toBe(0);
  });

  it('build --clang with a missing path: the clear error, exit 1', () => {
    const r = run(['build', 'myprog/execve.bpf.c', '--clang', '/nonexistent/clang'], tmp.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('clang not found');
    expect(r.stderr).toContain('apt-get install clang llvm');
  });

  it('build without a file is a usage error (exit 2)', () => {
    const r = run(['build'], tmp.dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no input file');
  });
});
