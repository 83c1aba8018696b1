// SshTarget: a remote target reached over ssh2. The transport part is SshShell (exec,
// spawn, putFile, lost link); probing, upload, sha256 verification and sudo are
// RemoteHelper's, shared with every remote transport.
import type { Client } from 'ssh2';
import { RemoteTarget } from '../remoteTarget';
import type { RemoteHelperOptions } from '../remoteHelper';
import type { SshLink } from './connect';
import { SshShell } from './shell';

export { execCollect } from './shell';

/** `ssh:user@host:port/SHA256:…` — the account and the host key we verified. */
export function sshIdentity(link: SshLink): string {
  const h = link.host;
  return `ssh:${h.user}@${h.hostName.toLowerCase()}:${h.port}/${link.hostKeyFingerprint}`;
}

export class SshTarget extends RemoteTarget {
  declare readonly shell: SshShell;

  constructor(name: string, link: SshLink, helperOpts: Omit<RemoteHelperOptions, 'account'>) {
    super(name, sshIdentity(link), new SshShell(name, link, helperOpts.log), { ...helperOpts, user: link.host.user });
  }

  /** The authenticated ssh2 client (for measurements and extra channels; do not end it directly). */
  get client(): Client {
    return this.shell.client;
  }
}
