// The run orchestrator: connect → build → lint → load → stream → drain, on one or more targets.
export { startRun, loadRun, kernelProblem, RunError } from './run';
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
  RunStage,
  RunState,
  RunTarget,
  TargetAccount,
} from './run';
export { parseOverride, validateOverrides, nearestValidRingSizes } from './overrides';
export { analyzeVerifierLog, attachDiagnostic, findMapLine, findSectionLine, loadErrorDiagnostic, verifierDiagnostic, verifierLogExcerpt } from '../verifier/diagnostics';
export type { SourceContext, VerifierFailure } from '../verifier/diagnostics';
