// Where things live: the package root (repo checkout, npm install or .vsix), the
// per-user cache, and the BPF target arch names. Shared by build, vmlinux and templates.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOwnPackageRoot } from '../util/packageRoot';

export type BpfArch = 'x86' | 'arm64' | 's390' | 'powerpc' | 'riscv';

/** Maps Node's process.arch / `uname -m` to libbpf's __TARGET_ARCH_* names. */
export function bpfArchOf(machine: string): BpfArch | undefined {
  switch (machine) {
    case 'x64':
    case 'x86_64':
    case 'amd64':
    case 'i686':
    case 'ia32':
      return 'x86';
    case 'arm64':
    case 'aarch64':
      return 'arm64';
    case 's390x':
    case 's390':
      return 's390';
    case 'ppc64':
    case 'ppc64le':
    case 'powerpc':
      return 'powerpc';
    case 'riscv64':
      return 'riscv';
    default:
      return undefined;
  }
}

export function hostBpfArch(): BpfArch {
  return bpfArchOf(process.arch) ?? 'x86';
}

/**
 * The folder holding Ringbuf Studio's package.json (core/util/packageRoot.ts: found from
 * this module's own location, never the working directory). Bundled without a
 * package.json next to it: the bundle's parent (dist/<bundle>.js).
 */
export function packageRoot(): string {
  return findOwnPackageRoot() ?? path.resolve(__dirname, '..');
}

/** ~/.cache/ringbuf-studio (XDG_CACHE_HOME respected; RINGBUF_STUDIO_CACHE overrides). */
export function cacheRoot(): string {
  const fromEnv = process.env.RINGBUF_STUDIO_CACHE;
  if (fromEnv) return path.resolve(fromEnv);
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'ringbuf-studio');
}

/** Writes via a temporary file + rename so readers never see half a file. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
