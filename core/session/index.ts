// Sessions with the helper on any target: the seam between "where it runs"
// (LocalTarget here, SshTarget in core/ssh) and "how we talk to it" (HelperSession).
export type { HelperExit, HelperProcess, RecordBatch, SpawnHelperOptions, TargetConnection } from './types';
export { HelperSession, LoadError } from './helperSession';
export type { CloseReason, HelperSessionOptions, SessionClosed, SessionLoadOptions } from './helperSession';
export { LocalTarget, checkHelperVersion, findHelperBinary, hostHelperArch } from './local';
export type { FindHelperOptions, HelperVersion, LocalPrivilege, LocalTargetOptions } from './local';
export { fetchVmlinuxHeader, probeTarget, runHelperOnce } from './oneShot';
