// Step 1 of a run: connect to every target and start its helper (local: spawn; ssh: connect,
// upload, sudo), each helper's HELLO. Connections resolve one by one (an early build can start
// from the first one's connect probe); `opened` resolves when every helper said HELLO.
import { HelperSession } from '../session/helperSession';
import { connectTarget, type ConnectTargetOptions } from '../transport/registry';
import type { TargetConnection } from '../transport/types';
import { messageOf } from '../util/errors';
import { errorOpts, RunError } from './errors';
import type { RunContext } from './types';

export interface Connected {
  name: string;
  conn: TargetConnection;
}

export interface Opened extends Connected {
  session: HelperSession;
}

export interface Connecting {
  /** One per target, in order: the connection (before its helper starts). */
  connected: Array<Promise<Connected>>;
  /** Every target with its helper session (after HELLO). */
  opened: Promise<Opened[]>;
}

export function connectTargets(ctx: RunContext, specs: ReadonlyArray<string | TargetConnection>): Connecting {
  const { opts, names, listeners } = ctx;
  ctx.setState('connecting', names.join(', '));
  const connectOpts: ConnectTargetOptions = {
    ...opts.connect,
    signal: ctx.startup,
    ...(opts.helperPath ? { helperPath: opts.helperPath } : {}),
  };
  const connectError = (name: string, err: unknown): RunError =>
    err instanceof RunError ? err : new RunError(names.length > 1 ? `${name}: ${messageOf(err)}` : messageOf(err), 'connect', [], errorOpts(err, name));
  const connected = specs.map(async (spec) => {
    const name = typeof spec === 'string' ? spec : spec.name;
    try {
      if (typeof spec !== 'string') return { name, conn: spec };
      const conn = await connectTarget(spec, connectOpts);
      ctx.owned.push(conn);
      return { name, conn };
    } catch (err) {
      throw connectError(name, err);
    }
  });
  const opened = Promise.all(
    connected.map(async (c) => {
      const { name, conn } = await c;
      try {
        // The startup signal, not the run's: once streaming, an abort stops (and drains) through STOP.
        const proc = await conn.spawnHelper(['serve'], { signal: ctx.startup });
        const session = await HelperSession.open(proc, { target: name });
        ctx.sessions.push(session);
        session.onLog((level, text) => listeners.log.emit(name, level, text));
        return { name, conn, session };
      } catch (err) {
        throw connectError(name, err);
      }
    }),
  );
  opened.catch(() => undefined); // awaited by the caller; this only keeps an early failure from being "unhandled"
  return { connected, opened };
}
