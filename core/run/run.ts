// The whole loop for one run on one or more targets, as steps:
//   connect.ts (HELLO) → prepare.ts (build or read the .o, lint with the target's page size and
//   kernel, check overrides) → load.ts (LOAD) → event layouts → stream.ts (START … STOP, drain,
//   the books at the end).
// Batches from every target merge into one stream; each carries its `host`.
import fs from 'node:fs';
import path from 'node:path';
import { inferEventTypesFromSource, resolveEventLayouts } from '../decode/eventTypes';
import type { TargetConnection } from '../transport/types';
import { Emitter } from '../util/emitter';
import { messageOf, StudioError, wrapError } from '../util/errors';
import { connectTargets } from './connect';
import { RunError } from './errors';
import { loadOnTargets } from './load';
import { buildProgram, checkKernels, checkOverridesAndAttach, lintForTargets, startEarlyBuild } from './prepare';
import { startStreaming } from './stream';
import type { LoadedRun, RunChannels, RunContext, RunHandle, RunListeners, RunOptions, RunState } from './types';

export { RunError } from './errors';

export type {
  LoadedRun,
  RingAccount,
  RunAccount,
  RunEnd,
  RunEndReason,
  RunFlush,
  RunHandle,
  RunListeners,
  RunOptions,
  RunProgram,
  RunStage,
  RunState,
  RunTarget,
  TargetAccount,
} from './types';

/** The context every step shares: options, listeners, state, what to clean up. */
function runContext(opts: RunOptions, names: string[]): RunContext {
  const listeners: RunChannels = {
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
  const startup = new AbortController();
  const onAbort = (): void => startup.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    opts,
    file: path.resolve(opts.file),
    names,
    listeners,
    setState: (s, detail) => {
      state = s;
      listeners.state.emit(s, detail);
    },
    getState: () => state,
    owned: [],
    sessions: [],
    startup: startup.signal,
    releaseStartup: () => opts.signal?.removeEventListener('abort', onAbort),
  };
}

function targetSpecs(opts: RunOptions): { specs: ReadonlyArray<string | TargetConnection>; names: string[] } {
  if (!fs.existsSync(path.resolve(opts.file))) {
    throw new RunError(`${opts.file} does not exist`, 'build', [], { code: 'ENOENT', hint: 'give a .bpf.c source or a compiled .o' });
  }
  const specs = opts.targets && opts.targets.length ? opts.targets : ['local'];
  const names = specs.map((s) => (typeof s === 'string' ? s : s.name));
  if (new Set(names).size !== names.length) throw new RunError(`target listed twice: ${names.join(', ')}`, 'connect', [], { code: 'EUSAGE' });
  return { specs, names };
}

/** Detaches every helper this run started and closes the connections it opened. */
async function closeAll(ctx: RunContext): Promise<void> {
  await Promise.all(ctx.sessions.map((s) => s.detach().catch(() => undefined)));
  await Promise.all(ctx.owned.map((c) => c.close().catch(() => undefined)));
}

/** Connect → build → lint → check → load, on every target; nothing streams yet. */
async function loadSteps(ctx: RunContext, specs: ReadonlyArray<string | TargetConnection>): Promise<LoadedRun> {
  const connecting = connectTargets(ctx, specs);
  const earlyBuild = await startEarlyBuild(ctx, connecting);
  const opened = await connecting.opened;
  ctx.opts.signal?.throwIfAborted();
  checkKernels(opened);
  const first = opened[0];
  if (!first) throw new RunError('no target', 'connect');
  const program = await buildProgram(ctx, first, earlyBuild);
  const warnings = lintForTargets(ctx, opened, program);
  checkOverridesAndAttach(ctx, opened, program);
  const loaded = await loadOnTargets(ctx, opened, program, warnings);
  // Event layouts: declared on the map, else inferred from the source.
  const inferred = program.sourceText !== undefined ? inferEventTypesFromSource(program.sourceText) : [];
  return {
    file: ctx.file,
    source: program.source,
    objectPath: program.objectPath,
    object: program.object,
    objectBytes: program.objectBytes,
    layouts: resolveEventLayouts(program.object, inferred),
    targets: loaded.map((t) => ({ name: t.name, connection: t.conn, hello: t.session.hello, loaded: t.loaded, session: t.session })),
    diagnostics: warnings,
    close: () => closeAll(ctx),
  };
}

async function withCleanup<T>(ctx: RunContext, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    ctx.setState('failed', messageOf(err));
    await closeAll(ctx);
    ctx.releaseStartup();
    if (err instanceof RunError) throw err;
    if (ctx.opts.signal?.aborted) throw new RunError('run cancelled', 'connect', [], { code: 'EABORTED' });
    throw err instanceof StudioError ? err : wrapError(err, 'run');
  }
}

/** Starts a run; resolves once every target streams. Rejects with RunError (with diagnostics) when it cannot start. */
export async function startRun(opts: RunOptions): Promise<RunHandle> {
  const { specs, names } = targetSpecs(opts);
  const ctx = runContext(opts, names);
  return withCleanup(ctx, async () => startStreaming(ctx, await loadSteps(ctx, specs)));
}

/**
 * Loads (and attaches, unless `attach: 'none'`) on every target without streaming: for
 * verifying a program (`verifierLevel` puts each program's verifier data in `loaded`). The
 * caller ends it with close().
 */
export async function loadRun(opts: RunOptions): Promise<LoadedRun> {
  const { specs, names } = targetSpecs(opts);
  const ctx = runContext(opts, names);
  return withCleanup(ctx, () => loadSteps(ctx, specs));
}
