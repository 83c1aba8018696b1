// LocalTarget.spawnCommand: the trigger primitive of live tests and `run -- CMD`. Real
// processes: argv without a shell, env and cwd, a clear error for a missing program, and
// terminate() ending what the command left in its process group.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalTarget } from '../../../core/transport/local';
import type { RemoteProcess } from '../../../core/transport/types';
import { StudioError } from '../../../core/util/errors';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-localcmd-'));
const target = new LocalTarget();
afterAll(async () => {
  await target.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Everything the command printed: its exit and the end of its stdout (either may come first). */
async function output(p: RemoteProcess): Promise<string> {
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await Promise.all([p.exited, new Promise((r) => p.stdout.once('end', r))]);
  return out;
}

/** The first line the command prints (a background child may keep stdout open after it exits). */
async function firstLine(p: RemoteProcess): Promise<string> {
  let out = '';
  return new Promise((resolve) => {
    p.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
  });
}

/** Running (a zombie is dead: an orphan waits for PID 1 to reap it, which may be slow in a container). */
function alive(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false; // reaped
  }
  return !/^\d+ \(.*\) Z/.test(stat);
}

describe('LocalTarget.spawnCommand', () => {
  it('runs argv without a shell: $(…) and * reach the program as they are', async () => {
    const p = await target.spawnCommand(['/bin/echo', '$(id -u)', '*', 'a b']);
    expect(await output(p)).toBe('$(id -u) * a b\n');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it('reports the pid of the process it started, and adds env to the environment', async () => {
    const p = await target.spawnCommand(['/bin/sh', '-c', 'echo "$$ $RBS_GREETING $HOME"'], { env: { RBS_GREETING: 'hello' } });
    const pid = await p.pid;
    expect(await output(p)).toBe(`${pid} hello ${process.env.HOME}\n`);
  });

  it('starts in cwd, and names a missing cwd instead of blaming the program', async () => {
    const p = await target.spawnCommand(['/bin/pwd'], { cwd: tmp });
    expect((await output(p)).trim()).toBe(fs.realpathSync(tmp));
    await expect(target.spawnCommand(['/bin/pwd'], { cwd: path.join(tmp, 'gone') })).rejects.toThrow(/working directory .*gone does not exist/);
  });

  it('rejects a program that does not exist with code ENOENT, and one that is not executable with EACCES', async () => {
    const missing = await target.spawnCommand([path.join(tmp, 'nope')]).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StudioError);
    expect((missing as StudioError).code).toBe('ENOENT');
    expect((missing as StudioError).message).toMatch(/cannot start .*nope: no such file/);
    const plain = path.join(tmp, 'plain.txt');
    fs.writeFileSync(plain, 'not a program');
    const denied = await target.spawnCommand([plain]).catch((e: unknown) => e);
    expect((denied as StudioError).code).toBe('EACCES');
  });

  it('terminate() ends the command and what it left running in its process group', async () => {
    // The shell starts a background sleep, prints its pid, and exits at once.
    const p = await target.spawnCommand(['/bin/sh', '-c', 'sleep 30 & echo $!']);
    const child = Number(await firstLine(p));
    expect(child).toBeGreaterThan(1);
    expect(alive(child)).toBe(true);
    await p.terminate(0);
    for (let i = 0; i < 50 && alive(child); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(child)).toBe(false);
  });

  it('terminate() stops a command that does not end, and an aborted signal does too', async () => {
    const p = await target.spawnCommand(['/bin/sleep', '30']);
    await p.terminate(0);
    expect((await p.exited).signal).toBe('SIGTERM');
    const ac = new AbortController();
    const q = await target.spawnCommand(['/bin/sleep', '30'], { signal: ac.signal });
    ac.abort();
    expect((await q.exited).signal).toBe('SIGTERM');
  });
});
