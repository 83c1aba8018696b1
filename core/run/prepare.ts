// Steps 2–4 of a run, before anything reaches a kernel: the target kernel can run rings at all,
// build (or read) the object, lint it with each target's page size and kernel, and check the
// max_entries overrides and attach names.
import fs from 'node:fs';
import path from 'node:path';
import { compileBpf } from '../compile/build';
import { bpfArchOf } from '../compile/paths';
import { targetVmlinuxHeader } from '../compile/vmlinux';
import type { Diagnostic } from '../diagnostics';
import { readBpfObject, requireBtf, type BpfObjectInfo } from '../elf/bpfObject';
import { lintFile } from '../lint/index';
import type { Hello } from '../protocol/helper';
import type { TargetConnection } from '../transport/types';
import { messageOf } from '../util/errors';
import { kernelProblem } from '../util/kernel';
import type { SourceContext } from '../verifier/diagnostics';
import type { Connecting, Opened } from './connect';
import { errorOpts, RunError } from './errors';
import { validateOverrides } from './overrides';
import type { RunContext, RunOptions } from './types';

export function checkKernels(opened: Opened[]): void {
  for (const t of opened) {
    const p = kernelProblem({ kernel: t.session.hello.kernel, ringbuf: t.session.hello.ringbuf }, t.name);
    if (p) throw new RunError(p.message, 'kernel', [], { ...errorOpts(p, t.name), code: 'EKERNELOLD' });
  }
}

export function isObjectFile(file: string): boolean {
  return /\.o$/.test(file);
}

/** Source-layer findings that the target's kernel lacks a feature the program uses (RB012). */
async function kernelFeatureErrors(file: string, kernelRelease: string): Promise<Diagnostic[]> {
  // Unreadable now: clang's own errors stand alone.
  const text = await fs.promises.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  return lintFile({ file, text }, { kernelRelease }).filter((d) => d.code === 'RB012' && d.severity === 'error');
}

export interface Built {
  bytes: Uint8Array;
  path: string | undefined;
}

/** Compiles the .bpf.c for one target: its arch, and its vmlinux.h (local, fetched, or the caller's). */
async function build(ctx: RunContext, conn: TargetConnection, facts: { arch: string; kernel: string }, hello?: Hello): Promise<Built> {
  const { opts, file } = ctx;
  const signal = opts.signal;
  ctx.setState('building', path.basename(file));
  // (An early build never has a caller-supplied header: that callback takes the HELLO.)
  const headerDir = opts.vmlinuxHeaderDir && hello
    ? await opts.vmlinuxHeaderDir(conn, hello)
    : conn.capabilities.sharesHostKernel
      ? undefined
      : (await targetVmlinuxHeader(conn, signal ? { signal } : {})).dir;
  const arch = bpfArchOf(facts.arch);
  const built = await compileBpf({
    file,
    ...(opts.outFile ? { outFile: opts.outFile } : {}),
    ...(opts.clangPath ? { clangPath: opts.clangPath } : {}),
    ...(arch ? { arch } : {}),
    ...(headerDir ? { vmlinuxHeaderDir: headerDir } : {}),
    ...(signal ? { signal } : {}),
  });
  const warnings = built.diagnostics.filter((d) => d.severity !== 'error');
  if (warnings.length) ctx.listeners.diagnostics.emit(warnings);
  if (!built.ok || !built.object) {
    // Built against an older kernel's vmlinux.h, a newer feature fails to compile (no
    // struct bpf_dynptr on 5.10): the kernel-version rule says why better than clang.
    const tooNew = await kernelFeatureErrors(file, facts.kernel);
    if (tooNew.length) {
      throw new RunError(tooNew[0]?.message ?? 'needs a newer kernel', 'lint', [...tooNew, ...built.diagnostics], {
        code: 'EKERNELFEATURE',
        hint: 'run it on a newer kernel, or use the alternative the message names',
        target: conn.name,
      });
    }
    const errors = built.diagnostics.filter((d) => d.severity === 'error');
    throw new RunError(
      errors.length ? `${path.basename(file)} does not compile (${errors.length} error${errors.length > 1 ? 's' : ''})` : `building ${path.basename(file)} failed`,
      'build',
      built.diagnostics,
      { hint: 'fix the errors shown at their lines', detail: built.stderr },
    );
  }
  return { bytes: built.object, path: built.objectPath };
}

/**
 * The build needs the target's arch, kernel and vmlinux.h. An SSH target's connect probe
 * already knows them, so the build runs while its helper starts (a round trip and the HELLO
 * saved on every run); otherwise it waits for the HELLO (undefined here).
 */
export async function startEarlyBuild(ctx: RunContext, connecting: Connecting): Promise<EarlyBuild | undefined> {
  if (isObjectFile(ctx.file) || ctx.opts.vmlinuxHeaderDir) return undefined;
  const first = connecting.connected[0] ? await connecting.connected[0] : undefined;
  const info = first?.conn.info;
  if (!first || !info) return undefined;
  const built = build(ctx, first.conn, info);
  built.catch(() => undefined); // awaited after the HELLOs
  return { built };
}

/** A build already running (in an object: an async function would wait for a promise it returns). */
export interface EarlyBuild {
  built: Promise<Built>;
}

export interface Program {
  objectBytes: Uint8Array;
  objectPath: string | undefined;
  object: BpfObjectInfo;
  source: SourceContext;
  /** The source text, when there is one (event types are inferred from it). */
  sourceText: string | undefined;
}

/** For a .o: the C file its line info names, when it exists (diagnostics then point at it). */
function sourceForObject(objFile: string, obj: BpfObjectInfo): string | undefined {
  const named = obj.programs.find((p) => p.file)?.file;
  const candidates = [
    ...(named ? [path.isAbsolute(named) ? named : path.resolve(path.dirname(objFile), named), path.resolve(path.dirname(objFile), path.basename(named))] : []),
    objFile.replace(/\.o$/, '.c'),
  ];
  return candidates.find((c) => fs.existsSync(c));
}

/** Builds the .bpf.c (or reads the .o) and reads the object and its source. */
export async function buildProgram(ctx: RunContext, first: Opened, earlyBuild: EarlyBuild | undefined): Promise<Program> {
  const { file } = ctx;
  let objectBytes: Uint8Array;
  let objectPath: string | undefined;
  let sourceFile: string | undefined;
  if (isObjectFile(file)) {
    objectBytes = new Uint8Array(await fs.promises.readFile(file));
    objectPath = file;
  } else {
    sourceFile = file;
    const built = await (earlyBuild?.built ?? build(ctx, first.conn, first.session.hello, first.session.hello));
    objectBytes = built.bytes;
    objectPath = built.path;
  }
  ctx.opts.signal?.throwIfAborted();
  let object: BpfObjectInfo;
  try {
    // Every target the helper runs on (x86_64, aarch64) is little-endian; a bpfeb object cannot load.
    object = readBpfObject(objectBytes, { file: objectPath ?? file, targetEndian: 'little' });
    requireBtf(object);
  } catch (err) {
    throw new RunError(messageOf(err), 'build', [], errorOpts(err));
  }
  sourceFile ??= sourceForObject(file, object);
  let sourceText: string | undefined;
  if (sourceFile) {
    try {
      sourceText = await fs.promises.readFile(sourceFile, 'utf8');
    } catch {
      sourceText = undefined; // diagnostics then name the file without line text
    }
  }
  const source: SourceContext = sourceText !== undefined && sourceFile ? { file: sourceFile, text: sourceText } : { file: sourceFile ?? file };
  if (!object.maps.some((m) => m.typeName === 'ringbuf')) {
    ctx.listeners.log.emit(first.name, 'warn', `${path.basename(file)} has no BPF_MAP_TYPE_RINGBUF map: nothing will stream (it still loads and attaches)`);
  }
  return { objectBytes, objectPath, object, source, sourceText };
}

/** Lints with each target's page size and kernel; errors stop the run here. Returns the warnings. */
export function lintForTargets(ctx: RunContext, opened: Opened[], program: Program): Diagnostic[] {
  const warnings: Diagnostic[] = [];
  if (ctx.opts.lint === false) return warnings;
  ctx.setState('linting');
  const { source } = program;
  const seen = new Set<string>();
  const lintErrors: Diagnostic[] = [];
  // Which target (and page size) the errors are about: sizes valid on 4 KiB pages fail on 64 KiB arm64.
  const erring: string[] = [];
  for (const t of opened) {
    const key = `${t.session.hello.pageSize}/${t.session.hello.kernel}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const before = lintErrors.length;
    const diags = lintFile(
      { file: source.file, ...(source.text !== undefined ? { text: source.text } : {}), object: program.objectBytes },
      { pageSize: t.session.hello.pageSize, kernelRelease: t.session.hello.kernel },
    );
    for (const d of diags) {
      const dup = (x: Diagnostic): boolean => x.code === d.code && x.line === d.line && x.message === d.message;
      if (d.severity === 'error') {
        if (!lintErrors.some(dup)) lintErrors.push(d);
      } else if (!warnings.some(dup)) warnings.push(d);
    }
    if (lintErrors.length > before) erring.push(`${t.name} (page size ${t.session.hello.pageSize}, Linux ${t.session.hello.kernel})`);
  }
  if (lintErrors.length) {
    throw new RunError(
      `${path.basename(source.file)} has ${lintErrors.length} ring buffer error${lintErrors.length > 1 ? 's' : ''} for ${erring.join(', ')}; not loading it`,
      'lint',
      [...lintErrors, ...warnings],
      { hint: 'fix them (quick fixes are offered in the editor), or run with --no-lint to let the kernel decide' },
    );
  }
  if (warnings.length) ctx.listeners.diagnostics.emit(warnings);
  return warnings;
}

/** The programs a run names: to verify (`verify`; [] = all) or else to attach ([] = all, or none with 'none'). */
export function namedPrograms(opts: RunOptions): string[] {
  if (opts.verify !== undefined) return opts.verify === 'all' ? [] : [...opts.verify];
  return opts.attach === 'none' ? [] : [...(opts.attach ?? [])];
}

/** Overrides and attach names, checked before anything reaches the kernel. */
export function checkOverridesAndAttach(ctx: RunContext, opened: Opened[], program: Program): void {
  const overrides = ctx.opts.maxEntries ?? {};
  for (const t of opened) {
    const problems = validateOverrides(overrides, program.object, t.session.hello.pageSize, program.source, `${t.name} (${t.session.hello.arch})`);
    if (problems.length) {
      throw new RunError(problems[0]?.message ?? 'invalid override', 'override', problems, { code: 'EOVERRIDE', target: t.name, hint: 'pick a size that is a power of two and a multiple of the page size' });
    }
  }
  for (const name of namedPrograms(ctx.opts)) {
    if (!program.object.programs.some((p) => p.name === name)) {
      throw new RunError(`the object has no program named '${name}'`, 'attach', [], {
        code: 'ENOPROG',
        hint: `programs in ${path.basename(ctx.file)}: ${program.object.programs.map((p) => p.name).join(', ') || 'none'}`,
      });
    }
  }
}
