// Step 5 of a run: LOAD on every target; a refusal becomes a RunError with diagnostics at
// source lines, programs that could not attach while others did become warnings.
import { attachDiagnostic } from '../verifier/diagnostics';
import type { Diagnostic } from '../diagnostics';
import type { Loaded } from '../protocol/helper';
import { LoadError } from '../session/helperSession';
import { messageOf } from '../util/errors';
import type { Opened } from './connect';
import { errorOpts, RunError } from './errors';
import { namedPrograms, type Program } from './prepare';
import type { RunContext, RunStage } from './types';

export type LoadedTarget = Opened & { loaded: Loaded };

export async function loadOnTargets(ctx: RunContext, opened: Opened[], program: Program, warnings: Diagnostic[]): Promise<LoadedTarget[]> {
  const { opts } = ctx;
  ctx.setState('loading');
  const programs = program.object.programs.map((p) => ({ name: p.name, section: p.section }));
  const verify = opts.verify !== undefined;
  const attach = namedPrograms(opts);
  const loadedAll = await Promise.all(
    opened.map(async (t) => {
      try {
        const loaded = await t.session.load({
          object: program.objectBytes,
          attachAll: !verify && opts.attach !== 'none' && attach.length === 0,
          attach,
          overrides: opts.maxEntries ?? {},
          ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
          ...(opts.verifierLevel !== undefined || verify ? { verifierLevel: opts.verifierLevel ?? 0 } : {}),
          ...(verify ? { verify } : {}),
          ...(opts.drainTimeoutMs ? { drainTimeoutMs: opts.drainTimeoutMs } : {}),
          source: program.source,
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
      const d = failed.flatMap((p) => (p.error ? [attachDiagnostic({ ...p, error: p.error }, program.source, 'warning')] : []));
      if (opened.length > 1) for (const x of d) x.message = `${t.name}: ${x.message}`;
      warnings.push(...d);
      ctx.listeners.diagnostics.emit(d);
    }
  }
  return loadedAll;
}
