// The one place where the extension calls into core/. The glue codes against these
// shapes; when a core module changes, only this file follows.
import fs from 'node:fs/promises';
import path from 'node:path';
import { compileBpf } from '../core/compile/build';
import { targetVmlinuxHeader } from '../core/compile/vmlinux';
import { compileDecoder, formatValue, type EventDecoder } from '../core/decode/decode';
import type { Stats } from '../core/protocol/helper';
import { RunError, startRun as startCoreRun, type RunAccount, type RunHandle } from '../core/run';
import { probeTarget as probeWithHelper } from '../core/session/oneShot';
import { connectTarget, type ConnectTargetOptions } from '../core/transport/registry';
import type { Diagnostic } from '../core/diagnostics';
import { lintFile, lintSource } from '../core/lint';
import type { RecordBatch } from '../core/session/types';
import type { SecretCallbacks } from '../core/transport/secrets';
import { listSshHosts as listSshConfigHosts, type ExtraTarget } from '../core/transport/ssh/config';
import { listTemplates as listCoreTemplates, scaffoldTemplate as scaffoldCoreTemplate } from '../core/templates';
import { StudioError } from '../core/util/errors';

export type { Diagnostic } from '../core/diagnostics';
export type { RunAccount } from '../core/run';
export type { RecordBatch } from '../core/session/types';
export { exportGoPackage } from '../core/export/goPackage';
export type { ExportGoResult } from '../core/export/goPackage';

export interface TemplateInfo {
  name: string;
  title: string;
  description: string;
  minKernel: string;
}

export interface ScaffoldResult {
  /** The file to open: the template's `*.bpf.c`. */
  mainFile: string;
  files: string[];
}

export interface BuildResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  objectPath: string | undefined;
  /** The object's bytes, for the linter's object layer. */
  object: Uint8Array | undefined;
}

export interface AttachTypeSupport {
  name: string;
  ok: boolean;
  reason?: string | undefined;
}

export interface TargetFacts {
  kernelRelease: string;
  arch: string;
  pageSize: number;
  btf: boolean;
  ringbuf: boolean;
  attachTypes: AttachTypeSupport[];
  helperVersion?: string | undefined;
}

export interface SshHost {
  name: string;
  /** user@host:port, for display. */
  detail: string;
}

/** Asked while connecting to an SSH target; every answer comes from a VS Code prompt. */
export interface ConnectCallbacks extends SecretCallbacks {
  confirmHostKey(info: { host: string; port: number; fingerprint: string; keyType: string }): Promise<boolean>;
}

export interface RingStats {
  map: string;
  records: number;
  bytes: number;
  /** 0..1 */
  fill: number;
}

export interface TargetStats {
  host: string;
  rings: RingStats[];
  /** Sum of the drop counters the program exposes (e.g. a `dropped` global). */
  drops: number;
  /** The helper's stats frame as it came, for the panel. */
  raw: Stats;
}

export type RunState = 'connecting' | 'building' | 'linting' | 'loading' | 'running' | 'paused' | 'stopping' | 'stopped' | 'failed';

/** Why a run ended: user stop, count/duration, or trouble. */
export interface RunEnded {
  kind: 'stopped' | 'disconnected' | 'failed';
  /** Why, and the books: delivered, left in the ring, dropped by the program. */
  message: string;
  events: number;
  /** The run's books (core's RunAccount): leftInRing is null when a helper could not say. */
  books: RunAccount;
}

export interface RunInfo {
  program: string;
  file: string;
  targets: string[];
  maps: { name: string; type: string; maxEntries: number }[];
  programs: { name: string; attachTo: string; attached: boolean }[];
}

export interface RunSession {
  readonly info: RunInfo;
  /** The core run itself (the Live Events panel takes it whole). */
  readonly handle: RunHandle;
  /** Warnings raised while starting: lint with the target's page size, programs that did not attach. */
  readonly diagnostics: Diagnostic[];
  onBatch(listener: (batch: RecordBatch) => void): void;
  onStats(listener: (stats: TargetStats) => void): void;
  onLog(listener: (level: 'debug' | 'info' | 'warn' | 'error', text: string) => void): void;
  onState(listener: (state: RunState) => void): void;
  /** Resolves once when the run ends for any reason. */
  readonly ended: Promise<RunEnded>;
  /** Decoded fields of record i of a batch, for the text fallback (Output channel). */
  describeRecord(batch: RecordBatch, index: number): string;
  stop(): Promise<void>;
}

export interface StartRunOptions {
  file: string;
  targets: string[];
  clangPath: string | undefined;
  helperPath: string | undefined;
  compileOn: 'local' | 'target';
  maxEntriesOverrides: Record<string, number>;
  extraTargets: ExtraTargetSetting[];
  callbacks: ConnectCallbacks;
  signal: AbortSignal;
  progress: (message: string) => void;
  log: (level: 'debug' | 'info' | 'warn' | 'error', text: string) => void;
}

/** Failures that point at source lines (verifier rejects, attach failures) carry them. */
export class RunFailedError extends StudioError {
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[],
    readonly log: string,
    hint?: string,
  ) {
    super(message, { detail: log, ...(hint ? { hint } : {}) });
  }
}

export async function listTemplates(): Promise<TemplateInfo[]> {
  return Promise.resolve(listCoreTemplates().map((t) => ({ name: t.name, title: t.title, description: t.description, minKernel: t.minKernel })));
}

export async function scaffoldTemplate(name: string, dir: string, clangPath: string | undefined): Promise<ScaffoldResult> {
  const r = await scaffoldCoreTemplate(name, dir, clangPath ? { clangPath } : {});
  return { mainFile: r.main, files: r.files };
}

/** Source layer only: fast enough to run on every (debounced) keystroke. */
export async function lintText(text: string, file: string, pageSize: number): Promise<Diagnostic[]> {
  return Promise.resolve(lintSource(text, file, { pageSize }));
}

/** Source + compiled object (macros expanded: authoritative values). */
export async function lintWithObject(file: string, text: string, built: Pick<BuildResult, 'object' | 'objectPath'>, pageSize: number): Promise<Diagnostic[]> {
  const object = built.object ?? (built.objectPath ? new Uint8Array(await fs.readFile(built.objectPath)) : undefined);
  return lintFile(object ? { file, text, object } : { file, text }, { pageSize });
}

export async function build(opts: { file: string; clangPath: string | undefined; signal: AbortSignal }): Promise<BuildResult> {
  const r = await compileBpf({ file: opts.file, signal: opts.signal, ...(opts.clangPath ? { clangPath: opts.clangPath } : {}) });
  return { ok: r.ok, diagnostics: r.diagnostics, objectPath: r.objectPath, object: r.object };
}

/** Writes vmlinux.h for the target's kernel (from the cache core keeps per target) to outFile. */
export async function generateVmlinuxHeader(req: TargetRequest & { outFile: string }): Promise<string> {
  const conn = await connectTarget(req.target, connectOptions(req.callbacks, req));
  try {
    const header = await targetVmlinuxHeader(conn, { signal: req.signal });
    req.signal.throwIfAborted();
    await fs.copyFile(path.join(header.dir, 'vmlinux.h'), req.outFile);
    return req.outFile;
  } finally {
    await conn.close().catch(() => undefined); // the header is written; a failing disconnect changes nothing
  }
}

function connectOptions(callbacks: ConnectCallbacks, extras: { helperPath?: string | undefined; extraTargets?: ExtraTargetSetting[]; signal?: AbortSignal; log?: (level: 'info' | 'warn' | 'debug', msg: string) => void }): ConnectTargetOptions {
  return {
    confirmHostKey: (info) => callbacks.confirmHostKey(info),
    getPassphrase: (key) => callbacks.getPassphrase(key),
    getSudoPassword: (who) => callbacks.getSudoPassword(who),
    secretRejected: (ref) => callbacks.secretRejected(ref),
    ...(extras.extraTargets?.length ? { extraTargets: extras.extraTargets } : {}),
    ...(extras.signal ? { signal: extras.signal } : {}),
    ...(extras.log ? { log: extras.log } : {}),
    ...(extras.helperPath ? { helperPath: extras.helperPath } : {}),
  };
}

export type ExtraTargetSetting = ExtraTarget;

export interface TargetRequest {
  target: string;
  callbacks: ConnectCallbacks;
  signal: AbortSignal;
  helperPath?: string | undefined;
  extraTargets?: ExtraTargetSetting[];
}

/** Connects, runs `ringbuf-helper probe` there, disconnects. */
export async function probeTarget(req: TargetRequest): Promise<TargetFacts> {
  const conn = await connectTarget(req.target, connectOptions(req.callbacks, req));
  try {
    const hello = await probeWithHelper(conn, { signal: req.signal });
    const attach = Object.entries(hello.features.attach).map(([name, ok]) => ({ name, ok }));
    const progTypes = Object.entries(hello.features.progTypes)
      .filter(([name]) => !(name in hello.features.attach))
      .map(([name, ok]) => ({ name, ok, reason: ok ? undefined : 'program type not supported' }));
    return {
      kernelRelease: hello.kernel,
      arch: hello.arch,
      pageSize: hello.pageSize,
      btf: hello.btf,
      ringbuf: hello.ringbuf,
      attachTypes: [...attach, ...progTypes],
      helperVersion: hello.helper,
    };
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export async function listSshHosts(): Promise<SshHost[]> {
  return Promise.resolve(
    listSshConfigHosts().map((h) => ({
      name: h.name,
      detail: `${h.user ? `${h.user}@` : ''}${h.hostName}${h.port && h.port !== 22 ? `:${h.port}` : ''}`,
    })),
  );
}

const stateWords: Partial<Record<RunState, string>> = {
  connecting: 'connecting',
  building: 'compiling',
  linting: 'checking ring buffer rules',
  loading: 'loading and attaching',
};

/** Build → connect → load → attach → stream, on every target. Rejects with RunFailedError when the source is at fault. */
export async function startRun(opts: StartRunOptions): Promise<RunSession> {
  const stateListeners = new Set<(s: RunState) => void>();
  if (opts.compileOn === 'target' && opts.targets.some((t) => t !== 'local')) {
    // core/run builds here, against the target's own vmlinux.h (fetched through the helper).
    opts.log('warn', 'ringbufStudio.compileOn = "target" is not supported yet: compiling locally with the target\'s vmlinux.h');
  }
  let handle: RunHandle;
  try {
    handle = await startCoreRun({
      file: opts.file,
      targets: opts.targets,
      maxEntries: opts.maxEntriesOverrides,
      signal: opts.signal,
      ...(opts.clangPath ? { clangPath: opts.clangPath } : {}),
      ...(opts.helperPath ? { helperPath: opts.helperPath } : {}),
      connect: connectOptions(opts.callbacks, {
        extraTargets: opts.extraTargets,
        log: (level, msg) => opts.log(level, msg),
      }),
      listeners: {
        state: (state, detail) => {
          const word = stateWords[state];
          if (word) opts.progress(detail ? `${word} (${detail})` : word);
          for (const l of stateListeners) l(state);
        },
        log: (target, level, text) => opts.log(level === 'error' ? 'error' : level === 'warn' ? 'warn' : level === 'info' ? 'info' : 'debug', `[${target}] ${text}`),
      },
    });
  } catch (err) {
    if (err instanceof RunError && err.diagnostics.length > 0) {
      throw new RunFailedError(err.message, err.diagnostics, err.detail ?? err.diagnostics.map((d) => d.detail ?? '').join('\n'), err.hint);
    }
    throw err;
  }
  const decoders = new Map<string, EventDecoder | null>();
  const decoderFor = (map: string): EventDecoder | null => {
    let d = decoders.get(map);
    if (d === undefined) {
      const layout = handle.layouts.get(map);
      d = layout ? compileDecoder(layout) : null;
      decoders.set(map, d);
    }
    return d;
  };
  const first = handle.targets[0];
  const info: RunInfo = {
    program: path.basename(handle.file),
    file: handle.file,
    targets: handle.targets.map((t) => t.name),
    maps: (first?.loaded.maps ?? []).map((m) => ({ name: m.name, type: m.typeName, maxEntries: m.maxEntries })),
    programs: (first?.loaded.programs ?? []).map((p) => ({ name: p.name, attachTo: p.attachTarget || p.section, attached: p.attached })),
  };
  const ended = handle.done.then((end): RunEnded => {
    const kind = end.reason === 'connection-lost' ? 'disconnected' : end.reason === 'helper-exited' ? 'failed' : 'stopped';
    const books: RunAccount = {
      delivered: end.delivered,
      notDeliveredAfterCount: end.notDeliveredAfterCount,
      droppedByProgram: end.droppedByProgram,
      leftInRing: end.leftInRing,
      leftInRingBytes: end.leftInRingBytes,
    };
    return { kind, message: end.message, events: end.events, books };
  });
  return {
    info,
    handle,
    diagnostics: handle.diagnostics,
    ended,
    onBatch: (l) => void handle.onBatch(l),
    onStats: (l) =>
      void handle.onStats((host, stats) =>
        l({
          host,
          rings: stats.rings.map((r) => ({ map: r.name, records: r.records, bytes: r.bytes, fill: r.fill })),
          drops: stats.counters.reduce((n, c) => n + c.value, 0),
          raw: stats,
        }),
      ),
    onLog: (l) => void handle.onLog((target, level, text) => l(level === 'error' ? 'error' : level === 'warn' ? 'warn' : level === 'info' ? 'info' : 'debug', `[${target}] ${text}`)),
    onState: (l) => {
      stateListeners.add(l);
      void handle.onState((s) => l(s));
    },
    describeRecord: (batch, i) => {
      const off = batch.offsets[i] ?? 0;
      const len = batch.lengths[i] ?? 0;
      const decoder = decoderFor(batch.map);
      if (!decoder) return hex(batch.data.subarray(off, off + len));
      const event = decoder.decode(batch.data, off, len);
      return decoder.columns.map((c) => `${c.name}=${formatValue(event[c.name])}`).join(' ');
    },
    stop: async () => {
      await handle.stop();
    },
  };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, '0')).join('') + (bytes.length > 64 ? '…' : '');
}
