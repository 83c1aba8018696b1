// The whole loop for one run on one or more targets:
//   connect → HELLO → build (or read the .o) → lint with the target's page size and
//   kernel → validate overrides → LOAD → resolve event layouts → START → stream,
// until count/duration/abort/stop, detaching everything. Batches from every target
// merge into one stream; each carries its `host`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compileBpf } from '../compile/build';
import { bpfArchOf } from '../compile/paths';
import { ensureVmlinuxHeader, type VmlinuxHeader } from '../compile/vmlinux';
import type { EventLayout } from '../decode/layout';
import { inferEventTypesFromSource, resolveEventLayouts } from '../decode/eventTypes';
import type { Diagnostic } from '../diagnostics';
import { readBpfObject, requireBtf, type BpfObjectInfo } from '../elf/bpfObject';
import { lintFile } from '../lint/index';
import type { Hello, Loaded, LogLevel, Stats } from '../protocol/helper';
import { HelperSession, LoadError, type SessionClosed } from '../session/helperSession';
import { fetchVmlinuxHeader } from '../session/oneShot';
import type { TargetConnection } from '../transport/types';
import type { RecordBatch } from '../session/types';
import { connectTarget, type ConnectTargetOptions } from '../transport/registry';
import { Emitter } from '../util/emitter';
import { StudioError, messageOf, wrapError } from '../util/errors';
import { validateOverrides } from './overrides';
import { attachDiagnostic, type SourceContext } from '../verifier/diagnostics';

export type RunState = 'connecting' | 'building' | 'linting' | 'loading' | 'running' | 'paused' | 'stopping' | 'stopped' | 'failed';

export type RunStage = 'connect' | 'build' | 'lint' | 'kernel' | 'override' | 'load' | 'attach';

/** A run that could not start; `diagnostics` point at source lines when there are any. */
export class RunError extends StudioError {
  constructor(
    message: string,
    readonly stage: RunStage,
    readonly diagnostics: Diagnostic[] = [],
    opts: { hint?: string; detail?: string; code?: string; cause?: unknown; target?: string } = {},
  ) {
    super(message, {
      code: opts.code ?? `ERUN_${stage.toUpperCase()}`,
      ...(opts.hint ? { hint: opts.hint } : {}),
      ...(opts.detail ? { detail: opts.detail } : {}),
      ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
    });
    this.name = 'RunError';
    this.target = opts.target;
  }
  readonly target: string | undefined;
}

export interface RunListeners {
  /** A batch of records from one ring on one target (never one call per event). */
  batch(batch: RecordBatch): void;
  stats(target: string, stats: Stats): void;
  log(target: string, level: LogLevel | 'error', text: string): void;
  state(state: RunState, detail?: string): void;
  /** Warnings that do not stop the run: lint warnings, programs that could not attach while others did. */
  diagnostics(diagnostics: Diagnostic[]): void;
}

export interface RunOptions {
  /** A `.bpf.c` (built here) or a compiled `.o`. */
  file: string;
  /** Target specs ("local", ssh alias, user@host[:port]) or open connections. Default ["local"]. */
  targets?: ReadonlyArray<string | TargetConnection>;
  /** max_entries overrides by map name, validated before load with the target's page size. */
  maxEntries?: Record<string, number>;
  /** Programs to attach (default: all). */
  attach?: string[];
  /** Stop after this many events (all targets together). */
  count?: number;
  /** Stop after this long. */
  durationMs?: number;
  signal?: AbortSignal;
  /** Lint errors stop the run before deploy (default true). */
  lint?: boolean;
  clangPath?: string;
  /** Local helper binary (ringbufStudio.helperPath / --helper). */
  helperPath?: string;
  connect?: ConnectTargetOptions;
  /** Directory with the vmlinux.h to build against; default: the local one for local targets, fetched through the helper otherwise. */
  vmlinuxHeaderDir?: (target: TargetConnection, hello: Hello) => Promise<string | undefined>;
  /** Verifier log level on failure (1 default, 2 verbose). */
  logLevel?: number;
  /** Registered before anything starts, so no batch or state change is missed. */
  listeners?: Partial<RunListeners>;
  /** Build output (default: the per-user cache). */
  outFile?: string;
}

export type RunEndReason = 'count' | 'duration' | 'aborted' | 'stopped' | 'helper-exited' | 'connection-lost';

export interface RunEnd {
  reason: RunEndReason;
  /** Events delivered to listeners. */
  events: number;
  message: string;
  closed: Array<{ target: string; closed: SessionClosed }>;
}

export interface RunTarget {
  name: string;
  connection: TargetConnection;
  hello: Hello;
  loaded: Loaded;
  session: HelperSession;
}

export interface RunHandle {
  /** What was run (.bpf.c or .o) and the source used for diagnostics. */
  readonly file: string;
  readonly source: SourceContext;
  readonly objectPath: string | undefined;
  readonly object: BpfObjectInfo;
  readonly objectBytes: Uint8Array;
  /** Ringbuf map → event layout; null = undecodable (show hex). */
  readonly layouts: Map<string, EventLayout | null>;
  readonly targets: RunTarget[];
  /** Loaded per target name. */
  readonly loaded: Map<string, Loaded>;
  /** Warnings raised while starting (lint warnings, partial attach failures). */
  readonly diagnostics: Diagnostic[];
  readonly events: number;
  readonly state: RunState;
  onBatch(fn: RunListeners['batch']): () => void;
  onStats(fn: RunListeners['stats']): () => void;
  onLog(fn: RunListeners['log']): () => void;
  onState(fn: RunListeners['state']): () => void;
  pause(): void;
  resume(): void;
  /** Detaches everything; resolves when every helper is gone. */
  stop(): Promise<RunEnd>;
  /** Resolves when the run ends for any reason (never rejects). */
  readonly done: Promise<RunEnd>;
}

const MIN_KERNEL: [number, number] = [5, 8];

/** Why ringbuf programs cannot run on this target (kernel < 5.8, no ringbuf, no BTF), if they cannot. */
export function kernelProblem(hello: Hello, target: string): StudioError | undefined {
  const m = /^(\d+)\.(\d+)/.exec(hello.kernel);
  const old = m ? Number(m[1]) < MIN_KERNEL[0] || (Number(m[1]) === MIN_KERNEL[0] && Number(m[2]) < MIN_KERNEL[1]) : false;
  if (old || !hello.ringbuf) {
    return new StudioError(`${target} runs Linux ${hello.kernel}, which has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF needs kernel 5.8 or newer)`, {
      code: 'EKERNELOLD',
      hint: 'run on a newer kernel (Ubuntu 22.04 ships 5.15, Debian 12 ships 6.1), or use a perf event array there',
    });
  }
  return undefined;
}

function isObjectFile(file: string): boolean {
  return /\.o$/.test(file);
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

/**
 * The target's vmlinux.h in the local cache. When the connect probe reported the
 * target's BTF sha256, the cache is keyed by (kernel release, BTF hash) and a warm
 * run fetches nothing; a rebuilt kernel (new BTF hash) fetches again. Without the
 * hash the header is always fetched and keyed by its own text.
 */
export async function targetVmlinuxHeader(
  target: TargetConnection,
  kernelRelease: string,
  opts: { signal?: AbortSignal; cacheDir?: string } = {},
): Promise<VmlinuxHeader> {
  const fetchOpts = opts.signal ? { signal: opts.signal } : {};
  const cache = opts.cacheDir ? { cacheDir: opts.cacheDir } : {};
  const btfHash = target.info?.btfSha256;
  if (btfHash && /^[0-9a-f]{64}$/.test(btfHash)) {
    return ensureVmlinuxHeader({ ...cache, kernelRelease, btfHash, generate: () => fetchVmlinuxHeader(target, fetchOpts) });
  }
  const text = await fetchVmlinuxHeader(target, fetchOpts);
  const hash = crypto.createHash('sha256').update(text).digest('hex');
  return ensureVmlinuxHeader({ ...cache, generate: () => Promise.resolve(text), kernelRelease, btfHash: hash });
}

/** Starts a run; resolves once every target streams. Rejects with RunError (with diagnostics) when it cannot start. */
export async function startRun(opts: RunOptions): Promise<RunHandle> {
  const listeners = {
    batch: new Emitter<RunListeners['batch']>(),
    stats: new Emitter<RunListeners['stats']>(),
    log: new Emitter<RunListeners['log']>(),
    state: new Emitter<RunListeners['state']>(),
    diagnostics: new Emitter<RunListeners['diagnostics']>(),
  };
  const l = opts.listeners ?? {};
  listeners.batch.add(l.batch);
  listeners.stats.add(l.stats);
  listeners.log.add(l.log);
  listeners.state.add(l.state);
  listeners.diagnostics.add(l.diagnostics);
  let state: RunState = 'connecting';
  const setState = (s: RunState, detail?: string): void => {
    state = s;
    listeners.state.emit(s, detail);
  };

  const file = path.resolve(opts.file);
  if (!fs.existsSync(file)) {
    throw new RunError(`${opts.file} does not exist`, 'build', [], { code: 'ENOENT', hint: 'give a .bpf.c source or a compiled .o' });
  }
  const specs = opts.targets && opts.targets.length ? opts.targets : ['local'];
  const names = specs.map((s) => (typeof s === 'string' ? s : s.name));
  if (new Set(names).size !== names.length) throw new RunError(`target listed twice: ${names.join(', ')}`, 'connect', [], { code: 'EUSAGE' });
  const signal = opts.signal;
  const owned: TargetConnection[] = [];
  const sessions: HelperSession[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(sessions.map((s) => s.detach().catch(() => undefined)));
    await Promise.all(owned.map((c) => c.close().catch(() => undefined)));
  };

  try {
    // 1. Connect and HELLO (local: spawn; ssh: connect, upload, sudo).
    setState('connecting', names.join(', '));
    const connectOpts: ConnectTargetOptions = {
      ...opts.connect,
      ...(signal ? { signal } : {}),
      local: { ...opts.connect?.local, ...(opts.helperPath ? { helperPath: opts.helperPath } : {}) },
    };
    const connectError = (name: string, err: unknown): RunError =>
      err instanceof RunError ? err : new RunError(names.length > 1 ? `${name}: ${messageOf(err)}` : messageOf(err), 'connect', [], errorOpts(err, name));
    const connected = specs.map(async (spec) => {
      const name = typeof spec === 'string' ? spec : spec.name;
      try {
        if (typeof spec !== 'string') return { name, conn: spec };
        const conn = await connectTarget(spec, connectOpts);
        owned.push(conn);
        return { name, conn };
      } catch (err) {
        throw connectError(name, err);
      }
    });
    const openedPromise = Promise.all(
      connected.map(async (c) => {
        const { name, conn } = await c;
        try {
          const proc = await conn.spawnHelper(['serve'], signal ? { signal } : {});
          const session = await HelperSession.open(proc, { target: name });
          sessions.push(session);
          session.onLog((level, text) => listeners.log.emit(name, level, text));
          return { name, conn, session };
        } catch (err) {
          throw connectError(name, err);
        }
      }),
    );
    openedPromise.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"

    // 2a. The build needs the target's arch, kernel and vmlinux.h. An SSH target's connect
    // probe already knows them, so the build runs while its helper starts (a round trip
    // and the HELLO saved on every run); otherwise it waits for the HELLO.
    const build = async (conn: TargetConnection, facts: { arch: string; kernel: string }, hello?: Hello): Promise<{ bytes: Uint8Array; path: string | undefined }> => {
      setState('building', path.basename(file));
      // (An early build never has a caller-supplied header: that callback takes the HELLO.)
      const headerDir = opts.vmlinuxHeaderDir && hello
        ? await opts.vmlinuxHeaderDir(conn, hello)
        : conn.kind === 'local'
          ? undefined
          : (await targetVmlinuxHeader(conn, facts.kernel, signal ? { signal } : {})).dir;
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
      if (warnings.length) listeners.diagnostics.emit(warnings);
      if (!built.ok || !built.object) {
        const errors = built.diagnostics.filter((d) => d.severity === 'error');
        throw new RunError(
          errors.length ? `${path.basename(file)} does not compile (${errors.length} error${errors.length > 1 ? 's' : ''})` : `building ${path.basename(file)} failed`,
          'build',
          built.diagnostics,
          { hint: 'fix the errors shown at their lines', detail: built.stderr },
        );
      }
      return { bytes: built.object, path: built.objectPath };
    };
    let earlyBuild: ReturnType<typeof build> | undefined;
    if (!isObjectFile(file) && !opts.vmlinuxHeaderDir) {
      const firstConnected = connected[0] ? await connected[0] : undefined;
      const info = firstConnected?.conn.info;
      if (firstConnected && info) {
        earlyBuild = build(firstConnected.conn, info);
        earlyBuild.catch(() => undefined); // awaited after the HELLOs
      }
    }
    const opened = await openedPromise;
    signal?.throwIfAborted();
    for (const t of opened) {
      const p = kernelProblem(t.session.hello, t.name);
      if (p) throw new RunError(p.message, 'kernel', [], { ...errorOpts(p, t.name), code: 'EKERNELOLD' });
    }

    // 2. Build (or read the object).
    const first = opened[0];
    if (!first) throw new RunError('no target', 'connect');
    let objectBytes: Uint8Array;
    let objectPath: string | undefined;
    let sourceFile: string | undefined;
    if (isObjectFile(file)) {
      objectBytes = new Uint8Array(await fs.promises.readFile(file));
      objectPath = file;
    } else {
      sourceFile = file;
      const built = await (earlyBuild ?? build(first.conn, first.session.hello, first.session.hello));
      objectBytes = built.bytes;
      objectPath = built.path;
    }
    signal?.throwIfAborted();
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
        sourceText = undefined;
      }
    }
    const source: SourceContext = sourceText !== undefined && sourceFile ? { file: sourceFile, text: sourceText } : { file: sourceFile ?? file };
    if (!object.maps.some((m) => m.typeName === 'ringbuf')) {
      listeners.log.emit(first.name, 'warn', `${path.basename(file)} has no BPF_MAP_TYPE_RINGBUF map: nothing will stream (it still loads and attaches)`);
    }

    // 3. Lint with each target's page size and kernel; errors stop the run here.
    const warnings: Diagnostic[] = [];
    if (opts.lint !== false) {
      setState('linting');
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
          { file: source.file, ...(source.text !== undefined ? { text: source.text } : {}), object: objectBytes },
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
      if (warnings.length) listeners.diagnostics.emit(warnings);
    }

    // 4. Overrides and attach names, checked before anything reaches the kernel.
    const overrides = opts.maxEntries ?? {};
    for (const t of opened) {
      const problems = validateOverrides(overrides, object, t.session.hello.pageSize, source, `${t.name} (${t.session.hello.arch})`);
      if (problems.length) {
        throw new RunError(problems[0]?.message ?? 'invalid override', 'override', problems, { code: 'EOVERRIDE', target: t.name, hint: 'pick a size that is a power of two and a multiple of the page size' });
      }
    }
    const attach = opts.attach ?? [];
    for (const name of attach) {
      if (!object.programs.some((p) => p.name === name)) {
        throw new RunError(`the object has no program named '${name}'`, 'attach', [], {
          code: 'ENOPROG',
          hint: `programs in ${path.basename(file)}: ${object.programs.map((p) => p.name).join(', ') || 'none'}`,
        });
      }
    }

    // 5. Load everywhere.
    setState('loading');
    const programs = object.programs.map((p) => ({ name: p.name, section: p.section }));
    const loadedAll = await Promise.all(
      opened.map(async (t) => {
        try {
          const loaded = await t.session.load({
            object: objectBytes,
            attachAll: attach.length === 0,
            attach,
            overrides,
            ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
            source,
            programs,
          });
          return { ...t, loaded };
        } catch (err) {
          if (err instanceof LoadError) {
            const stage: RunStage = err.helperError ? (err.helperError.code === 'override' ? 'override' : 'load') : 'attach';
            throw new RunError(opened.length > 1 ? `${t.name}: ${err.message}` : err.message, stage, err.diagnostics, { ...errorOpts(err, t.name), code: err.code ?? 'ELOAD' });
          }
          throw new RunError(opened.length > 1 ? `${t.name}: ${messageOf(err)}` : messageOf(err), 'load', [], errorOpts(err, t.name));
        }
      }),
    );
    for (const t of loadedAll) {
      const failed = t.loaded.programs.filter((p) => !p.attached && p.error);
      if (failed.length) {
        const d = failed.flatMap((p) => (p.error ? [attachDiagnostic({ ...p, error: p.error }, source, 'warning')] : []));
        if (opened.length > 1) for (const x of d) x.message = `${t.name}: ${x.message}`;
        warnings.push(...d);
        listeners.diagnostics.emit(d);
      }
    }

    // 6. Event layouts: declared on the map, else inferred from the source.
    const inferred = sourceText !== undefined ? inferEventTypesFromSource(sourceText) : [];
    const layouts = resolveEventLayouts(object, inferred);

    return startStreaming({
      file,
      source,
      objectPath,
      object,
      objectBytes,
      layouts,
      targets: loadedAll.map((t) => ({ name: t.name, connection: t.conn, hello: t.session.hello, loaded: t.loaded, session: t.session })),
      diagnostics: warnings,
      listeners,
      setState,
      getState: () => state,
      owned,
      opts,
    });
  } catch (err) {
    setState('failed', messageOf(err));
    await cleanup();
    if (err instanceof RunError) throw err;
    if (signal?.aborted) throw new RunError('run cancelled', 'connect', [], { code: 'EABORTED' });
    throw err instanceof StudioError ? err : wrapError(err, 'run');
  }
}

function errorOpts(err: unknown, target?: string): { hint?: string; detail?: string; code?: string; cause: unknown; target?: string } {
  const s = err instanceof StudioError ? err : undefined;
  return {
    ...(s?.hint ? { hint: s.hint } : {}),
    ...(s?.detail ? { detail: s.detail } : {}),
    ...(s?.code ? { code: s.code } : {}),
    cause: err,
    ...(target ? { target } : {}),
  };
}

interface StreamingInput {
  file: string;
  source: SourceContext;
  objectPath: string | undefined;
  object: BpfObjectInfo;
  objectBytes: Uint8Array;
  layouts: Map<string, EventLayout | null>;
  targets: RunTarget[];
  diagnostics: Diagnostic[];
  listeners: {
    batch: Emitter<RunListeners['batch']>;
    stats: Emitter<RunListeners['stats']>;
    log: Emitter<RunListeners['log']>;
    state: Emitter<RunListeners['state']>;
  };
  setState: (s: RunState, detail?: string) => void;
  getState: () => RunState;
  owned: TargetConnection[];
  opts: RunOptions;
}

function startStreaming(x: StreamingInput): RunHandle {
  const { listeners, targets, opts } = x;
  let events = 0;
  let endReason: RunEndReason | undefined;
  let resolveDone!: (e: RunEnd) => void;
  const done = new Promise<RunEnd>((r) => (resolveDone = r));
  const closed: Array<{ target: string; closed: SessionClosed }> = [];
  const limit = opts.count !== undefined && opts.count > 0 ? opts.count : Infinity;
  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<RunEnd> | undefined;

  const finish = async (): Promise<void> => {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(x.owned.map((c) => c.close().catch(() => undefined)));
    const reason = endReason ?? 'stopped';
    const lost = closed.find((c) => c.closed.reason !== 'stopped');
    const message =
      reason === 'count'
        ? `${events} events (count reached)`
        : reason === 'duration'
          ? `${events} events in ${(opts.durationMs ?? 0) / 1000} s`
          : reason === 'aborted'
            ? `interrupted after ${events} events`
            : lost && reason !== 'stopped'
              ? lost.closed.reason === 'connection-lost'
                ? `${lost.target}: ${lost.closed.message} after ${events} events; the helper there detaches the program by itself (reconnect and run again)`
                : `${lost.target}: ${lost.closed.message}`
              : `stopped after ${events} events`;
    x.setState('stopped', message);
    resolveDone({ reason, events, message, closed });
  };

  const stopAll = (reason: RunEndReason): Promise<RunEnd> => {
    if (stopping) return stopping;
    endReason ??= reason;
    x.setState('stopping');
    stopping = Promise.all(targets.map((t) => t.session.stop())).then(async () => {
      await finishedOnce();
      return done;
    });
    return stopping;
  };

  let finishing: Promise<void> | undefined;
  const finishedOnce = (): Promise<void> => (finishing ??= finish());

  for (const t of targets) {
    t.session.onBatch((batch) => {
      if (events >= limit) return;
      let b = batch;
      if (events + b.count > limit) {
        const n = limit - events;
        b = { ...b, count: n, offsets: b.offsets.subarray(0, n), lengths: b.lengths.subarray(0, n) };
      }
      events += b.count;
      listeners.batch.emit(b);
      if (events >= limit) void stopAll('count');
    });
    t.session.onStats((s) => listeners.stats.emit(t.name, s));
    t.session.onClosed((c) => {
      closed.push({ target: t.name, closed: c });
      if (c.reason !== 'stopped') {
        listeners.log.emit(t.name, 'error', c.message);
        endReason ??= c.reason;
      }
      if (closed.length === targets.length) void finishedOnce();
    });
  }

  const onAbort = (): void => void stopAll('aborted');
  if (opts.signal) {
    if (opts.signal.aborted) queueMicrotask(onAbort);
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }
  if (opts.durationMs !== undefined && opts.durationMs > 0) timer = setTimeout(() => void stopAll('duration'), opts.durationMs);

  for (const t of targets) t.session.start();
  x.setState('running');

  const on = <K extends keyof StreamingInput['listeners']>(k: K) => (fn: Parameters<StreamingInput['listeners'][K]['add']>[0]): (() => void) =>
    (listeners[k].add as (f: typeof fn) => () => void)(fn);

  return {
    file: x.file,
    source: x.source,
    objectPath: x.objectPath,
    object: x.object,
    objectBytes: x.objectBytes,
    layouts: x.layouts,
    targets,
    loaded: new Map(targets.map((t) => [t.name, t.loaded])),
    diagnostics: x.diagnostics,
    get events() {
      return events;
    },
    get state() {
      return x.getState();
    },
    onBatch: on('batch'),
    onStats: on('stats'),
    onLog: on('log'),
    onState: on('state'),
    pause: () => {
      for (const t of targets) if (!t.session.isClosed) t.session.pause();
      x.setState('paused');
    },
    resume: () => {
      for (const t of targets) if (!t.session.isClosed) t.session.resume();
      x.setState('running');
    },
    stop: () => stopAll('stopped'),
    done,
  };
}
