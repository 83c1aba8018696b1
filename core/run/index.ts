// The run orchestrator: connect → build → lint → load → stream → drain, on one or more targets.
export * from './run';
export { kernelProblem } from '../util/kernel';
export { parseOverride, validateOverrides, nearestValidRingSizes } from './overrides';
export { analyzeVerifierLog, attachDiagnostic, findMapLine, findSectionLine, loadErrorDiagnostic, verifierDiagnostic, verifierLogExcerpt } from '../verifier/diagnostics';
export type { SourceContext, VerifierFailure } from '../verifier/diagnostics';
