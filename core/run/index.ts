// The run orchestrator: build → connect → lint → load → stream, on one or more targets.
export { startRun, RunError } from './run';
export { kernelProblem } from '../util/kernel';
export type { RunEnd, RunEndReason, RunHandle, RunListeners, RunOptions, RunStage, RunState, RunTarget } from './run';
export { parseOverride, validateOverrides, nearestValidRingSizes } from './overrides';
export { analyzeVerifierLog, attachDiagnostic, findMapLine, findSectionLine, loadErrorDiagnostic, verifierDiagnostic, verifierLogExcerpt } from '../verifier/diagnostics';
export type { SourceContext, VerifierFailure } from '../verifier/diagnostics';
