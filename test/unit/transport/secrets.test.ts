// Trust item 9: what the extension remembers in SecretStorage (core/transport/secrets.ts,
// wired to VS Code in extension/sshPrompts.ts): keyed by who the target is, forgotten
// when rejected. The store here is a Map with SecretStorage's three methods.
import { describe, expect, it } from 'vitest';
import { rememberedSecrets, secretKey, type SecretRef, type SudoPrompt } from '../../../core/transport/secrets';

function memoryStore(): { data: Map<string, string>; get(k: string): Promise<string | undefined>; store(k: string, v: string): Promise<void>; delete(k: string): Promise<void> } {
  const data = new Map<string, string>();
  return {
    data,
    get: (k) => Promise.resolve(data.get(k)),
    store: (k, v) => Promise.resolve(void data.set(k, v)),
    delete: (k) => Promise.resolve(void data.delete(k)),
  };
}

const lab: SudoPrompt = { target: 'lab', user: 'ops', identity: 'ssh:ops@10.0.0.7:22/SHA256:labKey' };

describe('remembered secrets', () => {
  it('a sudo password is keyed by user@host:port + host key, never by the target name', async () => {
    const store = memoryStore();
    const asked: SecretRef[] = [];
    const s = rememberedSecrets(store, (ref) => {
      asked.push(ref);
      return Promise.resolve('hunter2');
    });
    expect(await s.getSudoPassword(lab)).toBe('hunter2');
    expect([...store.data.keys()]).toEqual(['ringbufStudio.sudo:ssh:ops@10.0.0.7:22/SHA256:labKey']);
    expect(await s.getSudoPassword(lab)).toBe('hunter2');
    expect(asked).toHaveLength(1); // remembered

    // A workspace's target named "lab" pointing elsewhere (or the same host with a new key) gets nothing.
    const impostor = { ...lab, identity: 'ssh:ops@evil.example:22/SHA256:evilKey' };
    const rekeyed = { ...lab, identity: 'ssh:ops@10.0.0.7:22/SHA256:newKey' };
    let offered: string | undefined = 'not asked';
    const s2 = rememberedSecrets(store, () => Promise.resolve((offered = undefined)));
    expect(await s2.getSudoPassword(impostor)).toBeUndefined();
    expect(await s2.getSudoPassword(rekeyed)).toBeUndefined();
    expect(offered).toBeUndefined();
  });

  it('a rejected sudo password or passphrase is forgotten at once, so the next attempt asks again', async () => {
    const store = memoryStore();
    let n = 0;
    const s = rememberedSecrets(store, () => Promise.resolve(`try-${++n}`));
    expect(await s.getSudoPassword(lab)).toBe('try-1');
    await s.secretRejected({ kind: 'sudo-password', prompt: lab });
    expect(store.data.size).toBe(0);
    expect(await s.getSudoPassword(lab)).toBe('try-2');

    expect(await s.getPassphrase('/home/me/.ssh/id_ed25519')).toBe('try-3');
    expect(store.data.has('ringbufStudio.passphrase:/home/me/.ssh/id_ed25519')).toBe(true);
    await s.secretRejected({ kind: 'key-passphrase', keyFile: '/home/me/.ssh/id_ed25519' });
    expect(store.data.has('ringbufStudio.passphrase:/home/me/.ssh/id_ed25519')).toBe(false);
  });

  it('a cancelled prompt stores nothing; a password stored by name (older versions) is dropped, never used', async () => {
    const store = memoryStore();
    store.data.set('ringbufStudio.sudo:lab', 'old-by-name');
    const s = rememberedSecrets(store, () => Promise.resolve(undefined));
    expect(await s.getSudoPassword(lab)).toBeUndefined();
    expect(store.data.size).toBe(0);
  });

  it('keys are stable strings', () => {
    expect(secretKey({ kind: 'key-passphrase', keyFile: '/k/../k/id' })).toBe('ringbufStudio.passphrase:/k/id');
  });
});
