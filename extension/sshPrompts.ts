// What SSH asks the user: host key fingerprints (modal), key passphrases and sudo
// passwords (password input boxes). Secrets are kept ONLY in SecretStorage, keyed and
// forgotten by core/transport/secrets.ts (by user@host:port + host key; dropped when
// rejected).
import * as vscode from 'vscode';
import { rememberedSecrets } from '../core/transport/secrets';
import type { ConnectCallbacks } from './connection';
import type { Log } from './log';

export function sshPrompts(secrets: vscode.SecretStorage, log: Log): ConnectCallbacks {
  const remembered = rememberedSecrets(secrets, (_ref, prompt) => vscode.window.showInputBox({ prompt, password: true, ignoreFocusOut: true }));
  return {
    async confirmHostKey({ host, fingerprint, keyType }) {
      const accept = 'Trust and Connect';
      const choice = await vscode.window.showWarningMessage(
        `The authenticity of host "${host}" can't be established.`,
        { modal: true, detail: `${keyType} key fingerprint is ${fingerprint}.\n\nCompare it with the host's own key (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host). Trusting saves it to ~/.ssh/known_hosts.` },
        accept,
      );
      log.info(`host key for ${host} (${fingerprint}): ${choice === accept ? 'accepted' : 'rejected'}`);
      return choice === accept;
    },
    getPassphrase: remembered.getPassphrase,
    getSudoPassword: remembered.getSudoPassword,
    async secretRejected(ref) {
      log.info(ref.kind === 'sudo-password' ? `sudo rejected the stored password for ${ref.prompt.user} on ${ref.prompt.target}: forgotten` : `the passphrase for ${ref.keyFile} was wrong: forgotten`);
      await remembered.secretRejected(ref);
    },
  };
}
