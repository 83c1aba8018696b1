// Finding clang: the ringbufStudio.clangPath setting → PATH (clang, then versioned
// names) → a clear error naming the package. The BPF target is checked up front so
// "unknown target triple 'bpf'" never reaches the user raw.
import fs from 'node:fs';
import path from 'node:path';
import { messageOf, StudioError } from '../util/errors';
import { findOnPath, isExecutable } from '../util/which';
import { execCapture } from '../util/exec';

export interface ClangInfo {
  path: string;
  version: string;
  major: number;
  hasBpfTarget: boolean;
}

const INSTALL_HINT =
  'install clang with the BPF target: apt-get install clang llvm (Debian/Ubuntu), dnf install clang llvm (Fedora), ' +
  'or set ringbufStudio.clangPath (CLI: --clang PATH) to a clang binary';

/** Versioned names tried after plain `clang`, newest first. */
const VERSIONED = Array.from({ length: 21 - 11 + 1 }, (_, i) => `clang-${21 - i}`);

const probed = new Map<string, Promise<ClangInfo>>();

export async function findClang(opts: { clangPath?: string } = {}): Promise<ClangInfo> {
  const configured = opts.clangPath?.trim();
  if (configured) {
    const resolved = configured.includes('/') ? path.resolve(configured) : findOnPath(configured);
    if (!resolved || !isExecutable(resolved)) {
      throw new StudioError(`clang not found at '${configured}' (from the ringbufStudio.clangPath setting or --clang)`, {
        hint: `fix the path, or clear the setting to search PATH; to install: ${INSTALL_HINT}`,
        code: 'ENOCLANG',
      });
    }
    return probe(resolved);
  }
  const candidates = ['clang', ...VERSIONED].map(findOnPath).filter((p): p is string => p !== undefined);
  if (candidates.length === 0) {
    throw new StudioError('clang not found on PATH (tried clang, clang-21 … clang-11)', {
      hint: INSTALL_HINT,
      code: 'ENOCLANG',
    });
  }
  // The first one with the BPF target wins; if none has it, report the first.
  let first: ClangInfo | undefined;
  let firstFailure: unknown;
  for (const c of candidates) {
    let info: ClangInfo;
    try {
      info = await probe(c);
    } catch (err) {
      firstFailure ??= err; // try the next one; say why if none runs
      continue;
    }
    if (info.hasBpfTarget) return info;
    first ??= info;
  }
  if (first) return first;
  throw new StudioError(`clang found (${candidates.join(', ')}) but none of them runs: ${messageOf(firstFailure)}`, {
    hint: INSTALL_HINT,
    code: 'ENOCLANG',
    cause: firstFailure,
  });
}

/** Throws the clear "no BPF target" error when the clang lacks it. */
export function requireBpfTarget(info: ClangInfo): void {
  if (info.hasBpfTarget) return;
  throw new StudioError(`${info.path} (clang ${info.version}) was built without the BPF target`, {
    hint: 'install a clang whose `clang -print-targets` lists bpf (Debian/Ubuntu: apt-get install clang llvm), then set ringbufStudio.clangPath to it',
    code: 'ENOBPFTARGET',
  });
}

function probe(clangPath: string): Promise<ClangInfo> {
  let key = clangPath;
  try {
    const st = fs.statSync(clangPath);
    key = `${clangPath}\0${st.mtimeMs}\0${st.size}`;
  } catch {
    // probe() reports it below
  }
  let p = probed.get(key);
  if (!p) {
    p = probeUncached(clangPath);
    probed.set(key, p);
    // a failed probe is not cached (the caller gets the failure through `p`)
    p.catch(() => probed.delete(key));
  }
  return p;
}

async function probeUncached(clangPath: string): Promise<ClangInfo> {
  let version;
  try {
    version = await execCapture(clangPath, ['--version']);
  } catch (err) {
    throw new StudioError(`cannot run clang at ${clangPath}: ${(err as Error).message}`, { hint: INSTALL_HINT, code: 'ENOCLANG', cause: err });
  }
  const text = version.stdout.toString('utf8');
  const m = /clang version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (version.code !== 0 || !m) {
    throw new StudioError(`${clangPath} does not look like clang (\`--version\` printed: ${firstLine(text || version.stderr)})`, {
      hint: INSTALL_HINT,
      code: 'ENOCLANG',
    });
  }
  const major = Number(m[1]);
  const targets = await execCapture(clangPath, ['-print-targets']).catch(() => undefined);
  let hasBpfTarget: boolean;
  if (targets && targets.code === 0) {
    hasBpfTarget = /^\s*bpf\s/m.test(targets.stdout.toString('utf8'));
  } else {
    // Very old clang without -print-targets: the "Registered Targets" list is in --version.
    hasBpfTarget = /^\s*bpf\s/m.test(text);
  }
  return { path: clangPath, version: `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}`, major, hasBpfTarget };
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}…` : line || '(nothing)';
}

