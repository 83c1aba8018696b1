// vmlinux.h for CO-RE programs, generated from a kernel's BTF and cached by kernel
// release + sha256 of the BTF blob (a rebuilt kernel with the same release gets a
// new header). Default source: the local /sys/kernel/btf/vmlinux; a remote target
// passes its own generator, release and hash.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StudioError } from '../util/errors';
import { findOnPath } from '../util/which';
import { execCapture } from './exec';
import { cacheRoot, packageRoot, writeFileAtomic } from './paths';

export const DEFAULT_BTF_PATH = '/sys/kernel/btf/vmlinux';

export interface VmlinuxHeaderOptions {
  /** Default /sys/kernel/btf/vmlinux. */
  btfPath?: string;
  /** Default ~/.cache/ringbuf-studio/vmlinux. */
  cacheDir?: string;
  /** Produces the header text; default: `bpftool btf dump file … format c`, else `ringbuf-helper vmlinux-h`. */
  generate?: (btfPath: string) => Promise<string>;
  /** Release of the kernel the BTF belongs to (default: this host's `uname -r`). */
  kernelRelease?: string;
  /** sha256 (hex) of the BTF blob when it is not readable here (a remote target). */
  btfHash?: string;
}

export interface VmlinuxHeader {
  /** Directory containing vmlinux.h (pass as -I). */
  dir: string;
  kernelRelease: string;
  btfHash: string;
  cached: boolean;
}

const inFlight = new Map<string, Promise<VmlinuxHeader>>();
const hashMemo = new Map<string, string>();

export function defaultVmlinuxCacheDir(): string {
  return path.join(cacheRoot(), 'vmlinux');
}

export async function ensureVmlinuxHeader(opts: VmlinuxHeaderOptions = {}): Promise<VmlinuxHeader> {
  const btfPath = opts.btfPath ?? DEFAULT_BTF_PATH;
  const kernelRelease = opts.kernelRelease ?? os.release();
  const btfHash = opts.btfHash ?? (await hashBtf(btfPath));
  const cacheDir = opts.cacheDir ?? defaultVmlinuxCacheDir();
  const dir = path.join(cacheDir, `${safeName(kernelRelease)}-${btfHash.slice(0, 16)}`);
  const header = path.join(dir, 'vmlinux.h');
  if (fs.existsSync(header)) return { dir, kernelRelease, btfHash, cached: true };

  let p = inFlight.get(header);
  if (!p) {
    p = (async (): Promise<VmlinuxHeader> => {
      const text = await (opts.generate ?? generateVmlinuxHeaderText)(btfPath);
      if (!/struct\s+task_struct\s*\{/.test(text) && !/__VMLINUX_H__/.test(text)) {
        throw new StudioError(`the generated vmlinux.h for ${kernelRelease} does not look like a kernel header`, {
          hint: 'check that the BTF file is a kernel BTF (e.g. /sys/kernel/btf/vmlinux)',
          detail: text.slice(0, 2000),
          code: 'EVMLINUX',
        });
      }
      await writeFileAtomic(header, text);
      return { dir, kernelRelease, btfHash, cached: false };
    })();
    inFlight.set(header, p);
    // callers get the failure through `p`; this derived promise only clears the slot
    void p.finally(() => inFlight.delete(header)).catch(() => undefined);
  }
  return p;
}

async function hashBtf(btfPath: string): Promise<string> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(btfPath);
  } catch (err) {
    throw new StudioError(`kernel BTF not found at ${btfPath}`, {
      hint: 'CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y (/sys/kernel/btf/vmlinux); or pass a vmlinux.h from your target',
      code: 'ENOBTF',
      cause: err,
    });
  }
  const memoKey = `${btfPath}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const known = hashMemo.get(memoKey);
  if (known) return known;
  const hash = crypto.createHash('sha256').update(await fs.promises.readFile(btfPath)).digest('hex');
  hashMemo.set(memoKey, hash);
  return hash;
}

function safeName(s: string): string {
  return s.replace(/[^\w.+-]/g, '_').slice(0, 100) || 'unknown';
}

/** The default generator: bpftool when installed (what most people use), otherwise our own static helper. */
export async function generateVmlinuxHeaderText(btfPath: string): Promise<string> {
  const bpftool = findOnPath('bpftool');
  const attempts: string[] = [];
  if (bpftool) {
    const r = await execCapture(bpftool, ['btf', 'dump', 'file', btfPath, 'format', 'c']);
    if (r.code === 0 && r.stdout.length > 0) return r.stdout.toString('utf8');
    attempts.push(`bpftool: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  const helper = helperBinary();
  if (helper) {
    const r = await execCapture(helper, ['vmlinux-h', btfPath]);
    if (r.code === 0 && r.stdout.length > 0) return r.stdout.toString('utf8');
    attempts.push(`${path.basename(helper)}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  throw new StudioError(`cannot generate vmlinux.h from ${btfPath}`, {
    hint: attempts.length
      ? 'see the detail; as root, check that the BTF file is readable'
      : 'install bpftool (apt-get install bpftool) or build the helper (make -C helper)',
    detail: attempts.join('\n') || undefined,
    code: 'EVMLINUX',
  });
}

/** The local helper binary for this host's arch, from a build (helper/build) or a package (dist/helper). */
export function helperBinary(): string | undefined {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const root = packageRoot();
  const candidates = [
    path.join(root, 'dist', 'helper', `ringbuf-helper-${arch}`),
    path.join(root, 'helper', 'build', `ringbuf-helper-${arch}`),
  ];
  return candidates.find((c) => fs.existsSync(c));
}

/** dist/include (holds bpf/bpf_helpers.h …), copied from libbpf-dev by `npm run build`. */
export function libbpfIncludeDir(): string {
  const dir = path.join(packageRoot(), 'dist', 'include');
  if (!fs.existsSync(path.join(dir, 'bpf', 'bpf_helpers.h'))) {
    throw new StudioError(`libbpf headers not found in ${dir}`, {
      hint: 'run `npm run build` (it copies them from libbpf-dev: apt-get install libbpf-dev)',
      code: 'ENOLIBBPFHDR',
    });
  }
  return dir;
}
