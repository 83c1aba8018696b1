// The seam between "where the helper runs" (local spawn, SSH exec, …) and "how we
// talk to it" (core/session: HelperSession, protocol in core/protocol/helper.ts).
// Every transport implements TargetConnection; everything above it is shared.

/** Transport logging (never receives secrets). */
export type LogFn = (level: 'info' | 'warn' | 'debug', msg: string) => void;

export interface HelperExit {
  code: number | null;
  signal: string | null;
  /**
   * Set when the link to the target broke (SSH connection lost: keepalive timeout,
   * sshd killed, network down) so the exit status is unknown; the remote helper
   * sees EOF on stdin and detaches by itself. A person-readable reason.
   */
  connectionLost?: string;
}

/** A running `ringbuf-helper …` process on some target, with its stdio. */
export interface HelperProcess {
  /** Helper → core bytes (protocol frames for `serve`, plain output for other subcommands). */
  readonly stdout: NodeJS.ReadableStream;
  /** Core → helper bytes. Ending it (EOF) is the helper's signal to detach everything and exit. */
  readonly stdin: NodeJS.WritableStream;
  readonly stderr: NodeJS.ReadableStream;
  readonly exited: Promise<HelperExit>;
  /** Ends stdin, waits up to graceMs for a clean exit, then kills. Never throws. */
  terminate(graceMs?: number): Promise<void>;
}

export interface SpawnHelperOptions {
  signal?: AbortSignal;
}

/** Facts about a target known right after connecting (see TargetConnection.info). */
export interface TargetInfo {
  /** Helper arch: one of HELPER_ARCHES (validated; a target's own word is never trusted). */
  readonly arch: HelperArch;
  /** `uname -r` (remote text: for messages and version checks, never a local path). */
  readonly kernel: string;
  /**
   * sha256 of the target's /sys/kernel/btf/vmlinux as the target reports it. It only
   * selects among headers fetched from this same target (see core/compile/vmlinux.ts).
   */
  readonly btfSha256?: string | undefined;
}

export interface TargetConnection {
  /** "local", an ssh alias, or "user@host:port" — what the user typed or picked (the `host` of its events). */
  readonly name: string;
  /**
   * Who the target really is, for caches and secrets: `local`, or
   * `ssh:user@host:port/SHA256:<host key>` — never the user-chosen name alone, so a
   * same-named target elsewhere (another workspace, a new host key) shares nothing.
   */
  readonly identity: string;
  readonly capabilities: TargetCapabilities;
  /**
   * What the connect probe learned before any helper runs (remote targets). Lets a run
   * build in parallel with the helper's start.
   */
  readonly info?: TargetInfo | undefined;
  /** Starts the helper with root privileges (directly, or through sudo) with the given argv. */
  spawnHelper(args: readonly string[], options?: SpawnHelperOptions): Promise<HelperProcess>;
  /**
   * Runs argv on the target as the login user (not root), without a shell, with the remote
   * pid; resolves once it started (rejects with code ENOENT/EACCES when the program cannot
   * start). Present when `capabilities.canRunCommands`: live-test triggers, `run -- CMD`.
   * Ending the process (terminate) also ends what it left in its process group.
   */
  spawnCommand?(argv: readonly string[], options?: RemoteSpawnOptions): Promise<RemoteProcess>;
  /**
   * The target kernel's BTF as a C header, when the transport makes it better than the
   * helper's `vmlinux-h` on the target (a VM under emulation: from its BTF, on this machine).
   */
  vmlinuxHeaderText?(options?: { signal?: AbortSignal }): Promise<string>;
  close(): Promise<void>;
}

// ───────────────────────── the open transport seam (contract) ─────────────────────────
// What every transport provides, so run/live tests/VM targets are written once above it.
// Implementations: core/transport/local.ts (this machine), core/transport/ssh (ssh2),
// core/transport/qemu (local VMs). See docs/architecture.md "Targets and transports".

/** The helper architectures we build and ship. A closed set: remote text outside it is refused. */
export const HELPER_ARCHES = ['x86_64', 'aarch64'] as const;
export type HelperArch = (typeof HELPER_ARCHES)[number];

/** What a target can do, instead of asking "is it local?". */
export interface TargetCapabilities {
  /** The target runs this machine's kernel: its vmlinux.h and BTF are the local ones. */
  readonly sharesHostKernel: boolean;
  /** Files can be put on the target (helper upload, a trigger's binary). */
  readonly canUpload: boolean;
  /** Commands can run on the target as the login user (live-test triggers, `run -- CMD`). */
  readonly canRunCommands: boolean;
}

/** A process started on a target with piped stdio (a trigger, a helper, a probe). */
export interface RemoteProcess {
  readonly stdout: NodeJS.ReadableStream;
  readonly stdin: NodeJS.WritableStream;
  readonly stderr: NodeJS.ReadableStream;
  /** The process id on the target, when the transport can learn it (live tests scope events to it). */
  readonly pid: Promise<number | undefined>;
  /** Resolves once the process has exited and its stdout was read to the end (read it, or resume() it). */
  readonly exited: Promise<HelperExit>;
  /** Ends stdin, waits up to graceMs, then kills. Never throws. */
  terminate(graceMs?: number): Promise<void>;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface RemoteSpawnOptions {
  /** Extra environment variables (names `[A-Za-z_][A-Za-z0-9_]*`). */
  env?: Readonly<Record<string, string>>;
  /** Working directory on the target. */
  cwd?: string;
  /** Aborting terminates the process. */
  signal?: AbortSignal;
}

export interface RemoteExecOptions {
  stdin?: string | Uint8Array;
  /** Default 30 s; then the command is killed and exec rejects. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Output beyond this many bytes per stream (default 1 MiB) ends the command and exec
   * rejects: a target cannot make us buffer without bound.
   */
  maxOutputBytes?: number;
}

/**
 * The small primitive a remote transport implements (SSH today, a VM's agent next):
 * upload, sha256 verification, privilege (sudo) and probing are written once above it
 * (core/transport/remoteHelper.ts). Commands are argv arrays, never shell strings.
 */
export interface RemoteShell {
  /** For messages: the target's name as the user wrote it. */
  readonly name: string;
  /** Runs argv to completion and collects its output (short control commands). */
  exec(argv: readonly string[], opts?: RemoteExecOptions): Promise<ExecResult>;
  /** Starts argv with piped stdio, as the login user. */
  spawn(argv: readonly string[], opts?: RemoteSpawnOptions): Promise<RemoteProcess>;
  /** Copies a local file to `remotePath` (created with `mode`); the caller renames it into place. */
  putFile(localPath: string, remotePath: string, mode: number, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Called once when the link breaks (at once when it already has; never for close()).
   * Returns an unsubscribe function.
   */
  onLost(fn: (reason: string) => void): () => void;
  close(): Promise<void>;
}

/** One kind of target, chosen by the spec's form: `local`, `qemu:<name>`, otherwise SSH. */
export interface TransportFactory<ConnectOptions> {
  /** Short id for logs and docs: 'local', 'ssh', 'qemu'. */
  readonly id: string;
  /** True when this transport handles the spec (checked in registration order; SSH is the fallback). */
  handles(spec: string): boolean;
  connect(spec: string, opts: ConnectOptions): Promise<TargetConnection>;
}
