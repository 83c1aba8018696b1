// Talking to the helper on any target: the `serve` conversation (HelperSession) and
// one-shot subcommands (probe, vmlinux-h). Where the helper runs is core/transport.
export type { RecordBatch } from './types';
export { HelperSession, LoadError } from './helperSession';
export type { CloseReason, HelperSessionOptions, SessionClosed, SessionLoadOptions } from './helperSession';
export { fetchVmlinuxHeader, probeTarget, runHelperOnce } from './oneShot';
