// vmlinux.h from a BTF file on this machine: bpftool when installed, else our own helper
// (`ringbuf-helper vmlinux-h`). Used by the local header cache and by VM targets, whose
// kernel BTF is a file here.
import path from 'node:path';
import { execCapture } from '../util/exec';
import { StudioError } from '../util/errors';
import { findOnPath } from '../util/which';
import { findHelperBinary, hostHelperArch } from './helperBinaries';

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

/** This machine's helper binary (helperBinaries.ts), or undefined when there is none. */
function helperBinary(): string | undefined {
  try {
    return findHelperBinary(hostHelperArch());
  } catch {
    return undefined; // the caller reports that neither bpftool nor the helper could generate it
  }
}
