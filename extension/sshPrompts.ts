// What SSH asks the user: host key fingerprints (modal), key passphrases and sudo
// passwords (password input boxes). Secrets are kept ONLY in SecretStorage.
import * as vscode from 'vscode';
import type { ConnectCallbacks } from './coreApi';
import type { Log } from './log';

export function sshPrompts(secrets: vscode.SecretStorage, log: Log): ConnectCallbacks {
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
    async getPassphrase(keyFile) {
      return secretOrAsk(secrets, `passphrase:${keyFile}`, `Passphrase for ${keyFile}`);
    },
    async getSudoPassword(target) {
      return secretOrAsk(secrets, `sudo:${target}`, `sudo password on ${target}`);
    },
  };
}

async function secretOrAsk(secrets: vscode.SecretStorage, key: string, prompt: string): Promise<string | undefined> {
  const stored = await secrets.get(`ringbufStudio.${key}`);
  if (stored !== undefined) return stored;
  const value = await vscode.window.showInputBox({ prompt, password: true, ignoreFocusOut: true });
  if (value !== undefined) await secrets.store(`ringbufStudio.${key}`, value);
  return value;
}

/** Forgets a stored secret after it was rejected, so the next attempt asks again. */
export async function forgetSecret(secrets: vscode.SecretStorage, key: string): Promise<void> {
  await secrets.delete(`ringbufStudio.${key}`);
}
