// Secrets the user types (a sudo password, a key passphrase): what each is keyed by,
// and the policy for remembering them — kept in the editor's SecretStorage, keyed by
// who the target really is (`user@host:port` + host key, via TargetConnection.identity)
// and never by the name a setting gave it, and forgotten the moment it is rejected.
// vscode-free, so the policy is unit-tested without an editor.
import path from 'node:path';

/** Who sudo asks about: shown to the user, and (identity) what the password is keyed by. */
export interface SudoPrompt {
  /** The target's name as the user wrote it (for the prompt only). */
  target: string;
  /** The login user sudo runs as. */
  user: string;
  /** TargetConnection.identity: `ssh:user@host:port/SHA256:…`. */
  identity: string;
}

export type SecretRef =
  | { kind: 'sudo-password'; prompt: SudoPrompt }
  | { kind: 'key-passphrase'; keyFile: string };

const PREFIX = 'ringbufStudio.';

/** The SecretStorage key of a secret. */
export function secretKey(ref: SecretRef): string {
  return ref.kind === 'sudo-password' ? `${PREFIX}sudo:${ref.prompt.identity}` : `${PREFIX}passphrase:${path.resolve(ref.keyFile)}`;
}

/** The parts of the editor's SecretStorage we use. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** Asks the user (a password box); undefined when cancelled. */
export type AskSecret = (ref: SecretRef, prompt: string) => PromiseLike<string | undefined>;

export interface SecretCallbacks {
  getPassphrase: (keyFile: string) => Promise<string | undefined>;
  getSudoPassword: (who: SudoPrompt) => Promise<string | undefined>;
  /** Core calls this when sudo or the key file rejected what was given: it is forgotten at once. */
  secretRejected: (ref: SecretRef) => Promise<void>;
}

/** Prompts that remember what the user typed in `store`, under secretKey(ref). */
export function rememberedSecrets(store: SecretStore, ask: AskSecret): SecretCallbacks {
  const getOrAsk = async (ref: SecretRef, prompt: string): Promise<string | undefined> => {
    const key = secretKey(ref);
    const stored = await store.get(key);
    if (stored !== undefined) return stored;
    const value = await ask(ref, prompt);
    if (value !== undefined) await store.store(key, value);
    return value;
  };
  return {
    getPassphrase: (keyFile) => getOrAsk({ kind: 'key-passphrase', keyFile }, `Passphrase for ${keyFile}`),
    getSudoPassword: async (who) => {
      // Versions before 0.2 keyed the password by the target's name: drop it, never read it.
      await store.delete(`${PREFIX}sudo:${who.target}`);
      return getOrAsk({ kind: 'sudo-password', prompt: who }, `sudo password for ${who.user} on ${who.target} (${who.identity.replace(/^ssh:/, '')})`);
    },
    secretRejected: async (ref) => {
      await store.delete(secretKey(ref));
    },
  };
}
