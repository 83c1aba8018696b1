// A TargetConnection for any remote transport: the transport supplies a RemoteShell and
// an identity; the helper (probe, upload, sudo, start) is RemoteHelper's business. A new
// transport (a VM, a container) connects its shell and returns `connectRemoteTarget(…)`.
import { RemoteHelper, type RemoteFacts, type RemoteHelperOptions } from './remoteHelper';
import type { HelperProcess, RemoteProcess, RemoteShell, RemoteSpawnOptions, SpawnHelperOptions, TargetCapabilities, TargetConnection } from './types';

export const REMOTE_CAPABILITIES: TargetCapabilities = { sharesHostKernel: false, canUpload: true, canRunCommands: true };

export class RemoteTarget implements TargetConnection {
  readonly capabilities: TargetCapabilities = REMOTE_CAPABILITIES;
  readonly helper: RemoteHelper;

  constructor(
    readonly name: string,
    readonly identity: string,
    readonly shell: RemoteShell,
    helperOpts: Omit<RemoteHelperOptions, 'account'> & { user: string },
  ) {
    const { user, ...rest } = helperOpts;
    this.helper = new RemoteHelper(shell, { ...rest, account: { target: name, user, identity } });
  }

  get info(): RemoteFacts | undefined {
    return this.helper.info;
  }

  /** The helper's path on the target (after connect). */
  get helperPath(): string | undefined {
    return this.helper.helperPath;
  }

  /** How many times this connection uploaded the helper (0 when the cached copy was reused). */
  get uploads(): number {
    return this.helper.uploads;
  }

  /** Probes the target, puts the helper there and decides how it gets root. */
  async prepare(): Promise<void> {
    await this.helper.prepare();
  }

  spawnHelper(args: readonly string[], options: SpawnHelperOptions = {}): Promise<HelperProcess> {
    return this.helper.spawnHelper(args, options);
  }

  /**
   * Runs argv as the login user (no sudo). The pid is the command's own on the target:
   * the shell prints `$$` on a marked stderr line and then execs argv (see the shell).
   */
  spawnCommand(argv: readonly string[], options: RemoteSpawnOptions = {}): Promise<RemoteProcess> {
    return this.shell.spawn(argv, options);
  }

  close(): Promise<void> {
    return this.shell.close();
  }
}

/** Builds the target and prepares it; closes the shell when preparing fails. */
export async function connectRemoteTarget<T extends RemoteTarget>(target: T): Promise<T> {
  try {
    await target.prepare();
  } catch (err) {
    await target.close();
    throw err;
  }
  return target;
}
