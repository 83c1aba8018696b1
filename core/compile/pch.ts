// A precompiled vmlinux.h: parsing the 2.8 MB header is most of a BPF compile, so a
// build that starts with `#include "vmlinux.h"` uses `-include-pch`, which halves the
// time of a build on save. The object is the same (checked: identical BTF and code).
// The PCH sits next to the cached header, keyed by clang and every flag that affects
// preprocessing; the user's own `#include "vmlinux.h"` is then skipped by the header's
// include guard. Any PCH trouble falls back to a plain compile (see build.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { maskSource } from '../decode/eventTypes';
import type { ClangInfo } from './clang';
import { execCapture } from '../util/exec';

const inFlight = new Map<string, Promise<string | undefined>>();

/**
 * True when nothing but comments and blank lines precede `#include "vmlinux.h"`, so
 * reading the header first (from a PCH) cannot change its meaning (e.g. a
 * `#define BPF_NO_PRESERVE_ACCESS_INDEX` before it would).
 */
export function startsWithVmlinuxInclude(text: string): boolean {
  const m = /^[ \t]*#[ \t]*include[ \t]*["<]vmlinux\.h[">]/m.exec(text);
  if (!m) return false;
  return maskSource(text.slice(0, m.index)).trim() === '';
}

/** Path of a PCH for `<dir>/vmlinux.h` built with these flags; undefined when it cannot be built. */
export async function ensureVmlinuxPch(clang: ClangInfo, vmlinuxDir: string, flags: readonly string[], signal?: AbortSignal): Promise<string | undefined> {
  const header = path.join(vmlinuxDir, 'vmlinux.h');
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(header);
  } catch {
    return undefined; // no vmlinux.h there: nothing to precompile
  }
  const key = crypto
    .createHash('sha256')
    .update([clang.path, clang.version, String(st.size), String(st.mtimeMs), ...flags].join('\0'))
    .digest('hex')
    .slice(0, 16);
  const pch = path.join(vmlinuxDir, `vmlinux.${key}.pch`);
  if (fs.existsSync(pch)) return pch;
  let p = inFlight.get(pch);
  if (!p) {
    p = (async (): Promise<string | undefined> => {
      const tmp = `${pch}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        const r = await execCapture(clang.path, [...flags, '-x', 'c-header', header, '-o', tmp], signal ? { signal } : {});
        if (r.code !== 0) return undefined;
        await fs.promises.rename(tmp, pch);
        return pch;
      } catch {
        return undefined; // the PCH is only a speed-up: without it the build reads vmlinux.h as text and reports any real error
      } finally {
        await fs.promises.rm(tmp, { force: true });
      }
    })();
    inFlight.set(pch, p);
    void p.finally(() => inFlight.delete(pch));
  }
  return p;
}

/** Clang's complaints about an unusable PCH (stale input, different flags or version). */
export function isPchProblem(stderr: string): boolean {
  return /precompiled header|PCH file|has been modified since the precompiled|was built with|\.pch/i.test(stderr);
}
