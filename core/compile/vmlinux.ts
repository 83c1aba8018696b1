// vmlinux.h for CO-RE programs, generated from a kernel's BTF and cached in two
// separate namespaces under ~/.cache/ringbuf-studio/vmlinux:
//   local/<release>-<btf sha256>          this machine's kernel (BTF hashed here, trusted);
//   targets/<identity hash>/<sha256 of the header text>/vmlinux.h
//                                         a remote target's, keyed by what we received and
//                                         by who sent it (TargetConnection.identity).
// A remote target's connect probe reports its BTF hash; targets/<id>/btf/<hash> records
// which header a fetch from THAT target returned, so a warm run fetches nothing, while
// a target's report can never select a header fetched from another target or the local
// kernel. One function, targetVmlinuxHeader(connection), serves run, CLI and extension.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchVmlinuxHeader } from '../session/oneShot';
import { generateVmlinuxHeaderText } from '../transport/localVmlinux';
import type { TargetConnection } from '../transport/types';
import { StudioError } from '../util/errors';
import { containedPath } from '../util/paths';
import { cacheRoot, writeFileAtomic } from '../util/cache';
import { packageRoot } from '../util/packageRoot';

export const DEFAULT_BTF_PATH = '/sys/kernel/btf/vmlinux';

export interface VmlinuxHeaderOptions {
  /** Default /sys/kernel/btf/vmlinux. */
  btfPath?: string;
  /** Default ~/.cache/ringbuf-studio/vmlinux (this machine's headers go to its `local/`). */
  cacheDir?: string;
  /** Produces the header text; default: `bpftool btf dump file … format c`, else `ringbuf-helper vmlinux-h`. */
  generate?: (btfPath: string) => Promise<string>;
  /** Release of the kernel the BTF belongs to (default: this host's `uname -r`). */
  kernelRelease?: string;
  /** sha256 (hex) of the BTF blob, when the caller already has it (default: hashed here). */
  btfHash?: string;
}

export interface VmlinuxHeader {
  /** Directory containing vmlinux.h (pass as -I). */
  dir: string;
  kernelRelease: string;
  /** Local: sha256 of the BTF blob. Remote: sha256 of the header text received. */
  btfHash: string;
  cached: boolean;
}

const inFlight = new Map<string, Promise<VmlinuxHeader>>();
const hashMemo = new Map<string, string>();

export function defaultVmlinuxCacheDir(): string {
  return path.join(cacheRoot(), 'vmlinux');
}

/** This machine's vmlinux.h (from its own BTF file), in the cache's `local/` namespace. */
export async function ensureVmlinuxHeader(opts: VmlinuxHeaderOptions = {}): Promise<VmlinuxHeader> {
  const btfPath = opts.btfPath ?? DEFAULT_BTF_PATH;
  const kernelRelease = opts.kernelRelease ?? os.release();
  const btfHash = opts.btfHash ?? (await hashBtf(btfPath));
  const cacheDir = opts.cacheDir ?? defaultVmlinuxCacheDir();
  const dir = containedPath(path.join(cacheDir, 'local'), `${safeName(kernelRelease)}-${btfHash.slice(0, 16)}`);
  const header = path.join(dir, 'vmlinux.h');
  if (fs.existsSync(header)) return { dir, kernelRelease, btfHash, cached: true };

  let p = inFlight.get(header);
  if (!p) {
    p = (async (): Promise<VmlinuxHeader> => {
      const text = await (opts.generate ?? generateVmlinuxHeaderText)(btfPath);
      requireKernelHeader(text, kernelRelease);
      await writeFileAtomic(header, text);
      return { dir, kernelRelease, btfHash, cached: false };
    })();
    inFlightOnce(header, p);
  }
  return p;
}

function requireKernelHeader(text: string, what: string): void {
  if (!/struct\s+task_struct\s*\{/.test(text) && !/__VMLINUX_H__/.test(text)) {
    throw new StudioError(`the generated vmlinux.h for ${what} does not look like a kernel header`, {
      hint: 'check that the BTF file is a kernel BTF (e.g. /sys/kernel/btf/vmlinux)',
      detail: text.slice(0, 2000),
      code: 'EVMLINUX',
    });
  }
}

/** Shares one generation among concurrent callers for the same key. */
function inFlightOnce(key: string, p: Promise<VmlinuxHeader>): void {
  inFlight.set(key, p);
  void p.finally(() => inFlight.delete(key)).catch(() => undefined); // the caller awaits p itself
}

const SHA256 = /^[0-9a-f]{64}$/;

function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** The cache namespace of one target: a hash of its identity (never its user-chosen name). */
export function targetVmlinuxNamespace(identity: string, cacheDir = defaultVmlinuxCacheDir()): string {
  return containedPath(path.join(cacheDir, 'targets'), sha256(identity).slice(0, 32));
}

/** The header a fetch from this target returned when it reported `btfHash`, if we have it. */
function recordedHeader(ns: string, btfHash: string): string | undefined {
  let content: string;
  try {
    content = fs.readFileSync(containedPath(path.join(ns, 'btf'), btfHash), 'utf8').trim();
  } catch {
    return undefined; // never fetched for this BTF: fetch it
  }
  if (!SHA256.test(content)) return undefined;
  const dir = containedPath(ns, content);
  return fs.existsSync(path.join(dir, 'vmlinux.h')) ? content : undefined;
}

/**
 * The vmlinux.h to build against for a target: this machine's for a target sharing the
 * host kernel, otherwise the target's own, fetched through its helper (`vmlinux-h`) and
 * cached in its identity's namespace (see the top of this file).
 */
export async function targetVmlinuxHeader(target: TargetConnection, opts: { signal?: AbortSignal; cacheDir?: string } = {}): Promise<VmlinuxHeader> {
  if (target.capabilities.sharesHostKernel) return ensureVmlinuxHeader(opts.cacheDir ? { cacheDir: opts.cacheDir } : {});
  const ns = targetVmlinuxNamespace(target.identity, opts.cacheDir);
  const kernelRelease = target.info?.kernel ?? 'unknown';
  const reported = target.info?.btfSha256 && SHA256.test(target.info.btfSha256) ? target.info.btfSha256 : undefined;
  const known = reported ? recordedHeader(ns, reported) : undefined;
  if (known) return { dir: containedPath(ns, known), kernelRelease, btfHash: known, cached: true };

  const key = `${ns}\0${reported ?? ''}`;
  let p = inFlight.get(key);
  if (!p) {
    p = (async (): Promise<VmlinuxHeader> => {
      const text = await fetchVmlinuxHeader(target, opts.signal ? { signal: opts.signal } : {});
      requireKernelHeader(text, `${target.name} (Linux ${kernelRelease})`);
      const content = sha256(text);
      const dir = containedPath(ns, content);
      const cached = fs.existsSync(path.join(dir, 'vmlinux.h'));
      if (!cached) await writeFileAtomic(path.join(dir, 'vmlinux.h'), text);
      if (reported) await writeFileAtomic(containedPath(path.join(ns, 'btf'), reported), `${content}\n`);
      return { dir, kernelRelease, btfHash: content, cached };
    })();
    inFlightOnce(key, p);
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
