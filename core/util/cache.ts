// The per-user cache (~/.cache/ringbuf-studio) and writing into it so readers never see
// half a file. Shared by the build, the vmlinux.h cache and the VM kernels.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** ~/.cache/ringbuf-studio (XDG_CACHE_HOME respected; RINGBUF_STUDIO_CACHE overrides). */
export function cacheRoot(): string {
  const fromEnv = process.env.RINGBUF_STUDIO_CACHE;
  if (fromEnv) return path.resolve(fromEnv);
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'ringbuf-studio');
}

/**
 * Writes via a temporary file + rename so readers never see half a file, and a failed write
 * leaves the old one. Creates the directory unless `createDir` is false (a user's output path:
 * a missing directory is their mistake to hear about).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: { createDir?: boolean } = {}): Promise<void> {
  if (opts.createDir !== false) await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
