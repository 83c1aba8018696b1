// Cross-process locks for the VM cache (one boot per guest, one download per kernel),
// held by listening on a Linux abstract Unix socket: the kernel drops it when the holder
// exits, however it exits, so a lock is never left stale.
import crypto from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import { StudioError } from '../../util/errors';

export interface HeldLock {
  release(): Promise<void>;
}

/** The abstract socket name for a lock: per user and per cache directory. */
function lockAddress(scope: string, name: string): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().uid;
  const h = crypto.createHash('sha256').update(`${scope}\0${name}`).digest('hex').slice(0, 24);
  return `\0ringbuf-studio/${uid}/${h}`;
}

function tryListen(address: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => sock.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    server.listen(address, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** Takes the lock if nobody holds it. */
export async function tryLock(scope: string, name: string): Promise<HeldLock | undefined> {
  const server = await tryListen(lockAddress(scope, name));
  if (!server) return undefined;
  let released: Promise<void> | undefined;
  return { release: () => (released ??= new Promise<void>((r) => server.close(() => r()))) };
}

/** Takes the lock, waiting while another process holds it (`onWait` once, when it must wait). */
export async function acquireLock(scope: string, name: string, opts: { timeoutMs?: number; signal?: AbortSignal; onWait?: () => void } = {}): Promise<HeldLock> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let waited = false;
  for (;;) {
    const held = await tryLock(scope, name);
    if (held) return held;
    opts.signal?.throwIfAborted();
    if (Date.now() > deadline) {
      throw new StudioError(`another Ringbuf Studio process has held the ${name} lock for ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`, {
        code: 'EVMLOCKED',
        hint: 'wait for it to finish (a download or a boot), or stop that process',
      });
    }
    if (!waited) opts.onWait?.();
    waited = true;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether some process holds the lock right now. */
export function isLockHeld(scope: string, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(lockAddress(scope, name));
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function withLock<T>(scope: string, name: string, fn: () => Promise<T>, opts: Parameters<typeof acquireLock>[2] = {}): Promise<T> {
  const lock = await acquireLock(scope, name, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
