// The one helper discovery, for every transport. Order:
//   1. an explicit, machine-scoped override — the ringbufStudio.helperPath setting,
//      `--helper`, or $RINGBUF_STUDIO_HELPER — for the arch it was built for;
//   2. next to the installed package: dist/helper/ (the bundle), helper/build/ (a checkout);
//   3. a clear error saying how to build it.
// Never the working directory or its parents: running the CLI inside an untrusted
// checkout must not pick (and upload, and run as root) a binary planted there.
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../util/errors';
import { findOwnPackageRoot } from '../util/packageRoot';
import { containedPath } from '../util/paths';
import { printableLine } from '../util/remoteText';
import { HELPER_ARCHES, type HelperArch } from './types';

export const HELPER_ENV = 'RINGBUF_STUDIO_HELPER';

export function isHelperArch(name: string): name is HelperArch {
  return (HELPER_ARCHES as readonly string[]).includes(name);
}

/** `ringbuf-helper-<arch>`, for a name from the closed set only. */
export function helperFileName(arch: HelperArch): string {
  if (!isHelperArch(arch)) throw new StudioError(`internal: '${String(arch)}' is not a helper architecture`, { code: 'EHELPERARCH' });
  return `ringbuf-helper-${arch}`;
}

/**
 * A target's `uname -m` as one of our helper arches (arm64 → aarch64, amd64 → x86_64).
 * Anything else — an arch we do not build, or text that is not an arch at all — is
 * refused, naming the target and what it reported.
 */
export function helperArchOf(reported: string, target: string): HelperArch {
  const name = reported.trim();
  const normal = name === 'arm64' ? 'aarch64' : name === 'amd64' ? 'x86_64' : name;
  if (isHelperArch(normal)) return normal;
  throw new StudioError(
    `${target} reports architecture '${printableLine(name)}' which Ringbuf Studio has no helper for (${HELPER_ARCHES.join(', ')})`,
    { code: 'EHELPERARCH', hint: `Ringbuf Studio runs programs on ${HELPER_ARCHES.join(' and ')} targets; pick one of those` },
  );
}

/** This machine's helper arch. */
export function hostHelperArch(): HelperArch {
  return helperArchOf(process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch, 'this machine');
}

const ELF_MACHINES: Record<number, HelperArch> = { 62: 'x86_64', 183: 'aarch64' };

/**
 * The arch an ELF file is built for; 'unknown' for an ELF of another machine;
 * undefined when the file is not ELF (a wrapper script: it applies to any arch).
 */
function elfArch(file: string): HelperArch | 'unknown' | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(20);
    if (fs.readSync(fd, head, 0, 20, 0) < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
    return ELF_MACHINES[machine] ?? 'unknown';
  } catch {
    return undefined; // unreadable: the version handshake reports it
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface FindHelperOptions {
  /** The ringbufStudio.helperPath setting or `--helper`; wins over $RINGBUF_STUDIO_HELPER. */
  helperPath?: string | undefined;
  /** The installed package's root (tests); default: found from this module's location. */
  packageRoot?: string | undefined;
}

function explicitHelper(arch: HelperArch, opts: FindHelperOptions): string | undefined {
  const fromSetting = opts.helperPath?.trim() ? opts.helperPath : undefined;
  const explicit = fromSetting ?? (process.env[HELPER_ENV]?.trim() ? process.env[HELPER_ENV] : undefined);
  if (!explicit) return undefined;
  const file = path.resolve(explicit);
  if (!fs.existsSync(file)) {
    throw new StudioError(`the helper binary ${explicit} does not exist`, {
      code: 'ENOHELPER',
      hint: fromSetting
        ? 'fix the ringbufStudio.helperPath setting (or --helper), or clear it to use the bundled helper'
        : `fix or unset ${HELPER_ENV}`,
    });
  }
  const built = elfArch(file);
  // An override built for another arch serves its own arch; this one comes from the package.
  return built === undefined || built === arch ? file : undefined;
}

/** Finds `ringbuf-helper-<arch>` (see the order at the top of this file). */
export function findHelperBinary(arch: HelperArch, opts: FindHelperOptions = {}): string {
  const name = helperFileName(arch);
  const explicit = explicitHelper(arch, opts);
  if (explicit) return explicit;
  const root = opts.packageRoot ?? findOwnPackageRoot();
  const candidates = root ? [containedPath(path.join(root, 'dist', 'helper'), name), containedPath(path.join(root, 'helper', 'build'), name)] : [];
  const found = candidates.find((c) => fs.existsSync(c));
  if (found) return found;
  throw new StudioError(`no ${name} found (looked in ${candidates.map((c) => path.dirname(c)).join(' and ') || 'no Ringbuf Studio package directory'})`, {
    code: 'ENOHELPER',
    hint: `build it: make -C helper${arch === 'x86_64' ? '' : ` ${arch}`} (then npm run build), or set ringbufStudio.helperPath / --helper / ${HELPER_ENV} to a ${arch} helper`,
  });
}
