// Every command's output reaches stdout or the command says it did not: `> /dev/full`
// (ENOSPC) is one line naming the errno and exit status 1; a reader that closes early
// (`| head -1`, EPIPE) is a normal end. The bundled CLI as users run it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliPath as cli, ensureCliBuilt } from '../../support/cli';
import { repoRoot } from '../../support/compile';

const fixtures = path.join(repoRoot, 'test/fixtures/lint');

beforeAll(() => {
  ensureCliBuilt();
});

/** Runs the CLI with stdout on /dev/full. */
function toDevFull(args: string[]): { status: number | null; stderr: string } {
  const full = fs.openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: fixtures, stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stderr: r.stderr };
  } finally {
    fs.closeSync(full);
  }
}

describe.skipIf(!fs.existsSync('/dev/full'))('stdout that cannot be written', () => {
  it.each([
    [['templates', '--format', 'json'], 'ringbuf-studio templates'],
    [['templates'], 'ringbuf-studio templates'],
    [['lint', 'size_1000.bpf.c', '--format', 'json', '--no-compile'], 'ringbuf-studio lint'],
    [['lint', 'size_1000.bpf.c', '--no-compile'], 'ringbuf-studio lint'],
    [['--help'], 'ringbuf-studio'],
  ])('%j > /dev/full: one line naming ENOSPC, exit status 1', (args, who) => {
    const r = toDevFull(args);
    expect(r.stderr).toContain(`${who}: cannot write to stdout: no space left on device (ENOSPC)\n`);
    expect(r.stderr.match(/cannot write/g)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(1);
  });

  it('export-go: the summary it could not print fails the command too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-export-full-'));
    try {
      const r = toDevFull(['export-go', path.join(repoRoot, 'bpf-templates/execve/execve.bpf.c'), dir]);
      expect(r.stderr).toContain('ringbuf-studio export-go: cannot write to stdout: no space left on device (ENOSPC)');
      expect(r.status).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a reader that goes away', () => {
  it('`templates | (read one line and close)` ends quietly with exit status 0', async () => {
    const child = spawn(process.execPath, [cli, 'templates'], { cwd: fixtures, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.destroy(); // the reader closed before anything was written: EPIPE
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(err).toBe('');
    expect(code).toBe(0);
  });
});
