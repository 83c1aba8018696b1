// Connect, authenticate and verify host keys against a real sshd on 127.0.0.1.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../core/transport/ssh/config';
import { openSshLink } from '../../../core/transport/ssh/connect';
import type { ConnectContext } from '../../../core/transport/ssh/connect';
import { execCollect } from '../../../core/transport/ssh/target';
import { StudioError } from '../../../core/util/errors';
import { available } from '../../support/prereq';
import { makeKey, startSshAgent, startSshd, writeSshConfig } from '../../support/sshd';
import type { SshAgent, SshdInstance } from '../../support/sshd';

describe.skipIf(!available('sshd'))('ssh connect and auth (real sshd)', () => {
  let sshd: SshdInstance;
  let jump: SshdInstance;
  let work: string;
  let cfg: string;
  let encKey: string;
  const noAgent = { agentSocket: '/nonexistent' };

  beforeAll(async () => {
    [sshd, jump] = await Promise.all([startSshd(), startSshd({ logLevel: 'DEBUG1' })]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-conn-'));
    encKey = makeKey(work, 'enc_key', { passphrase: 'correct horse' });
    sshd.authorize(`${encKey}.pub`);
    cfg = writeSshConfig(
      work,
      [
        'Host box',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        '  User root',
        `  IdentityFile ${sshd.clientKey}`,
        'Host enc',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        '  User root',
        `  IdentityFile ${encKey}`,
        '  IdentitiesOnly yes',
        'Host bastion',
        '  HostName 127.0.0.1',
        `  Port ${jump.port}`,
        '  User root',
        `  IdentityFile ${jump.clientKey}`,
        'Host behind',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        '  User root',
        `  IdentityFile ${sshd.clientKey}`,
        '  ProxyJump bastion',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await Promise.all([sshd?.stop(), jump?.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function connect(spec: string, ctx: ConnectContext = {}): Promise<{ client: Client; close: () => void }> {
    const host = resolveTarget(spec, { sshConfigPath: cfg });
    return openSshLink(host, { knownHostsPath: sshd.knownHosts, ...noAgent, ...ctx });
  }

  async function whoami(client: Client): Promise<string> {
    return (await execCollect(client, 'id -un')).stdout.toString().trim();
  }

  async function failure(p: Promise<unknown>): Promise<StudioError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StudioError);
    return err as StudioError;
  }

  it('connects with a key through a Host alias with HostName, Port, User', async () => {
    const link = await connect('box');
    expect(await whoami(link.client)).toBe('root');
    link.close();
  });

  it('asks for the passphrase of an encrypted key; the right one works', async () => {
    const asked: string[] = [];
    const link = await connect('enc', {
      getPassphrase: (p) => {
        asked.push(p);
        return Promise.resolve('correct horse');
      },
    });
    expect(asked).toEqual([encKey]);
    expect(await whoami(link.client)).toBe('root');
    link.close();
  });

  it('a wrong passphrase gives an auth error that says so', async () => {
    const err = await failure(connect('enc', { getPassphrase: () => Promise.resolve('wrong') }));
    expect(err.code).toBe('ESSHAUTH');
    expect(err.message).toContain('enc_key: wrong passphrase');
  });

  it('authenticates through ssh-agent', async () => {
    let agent: SshAgent | undefined;
    try {
      agent = await startSshAgent();
      agent.add(sshd.clientKey);
      const host = resolveTarget(`root@127.0.0.1:${sshd.port}`, { sshConfigPath: cfg });
      host.identityFiles = []; // only the agent can work
      const link = await openSshLink(host, { knownHostsPath: sshd.knownHosts, agentSocket: agent.socket });
      expect(await whoami(link.client)).toBe('root');
      link.close();
    } finally {
      await agent?.stop();
    }
  });

  it('hops through a ProxyJump host (both host keys verified)', async () => {
    const known = path.join(work, 'known_both');
    fs.writeFileSync(known, `${sshd.knownHostsLine}\n${jump.knownHostsLine}\n`);
    const link = await connect('behind', { knownHostsPath: known });
    expect(await whoami(link.client)).toBe('root');
    link.close();
    // The jump sshd really forwarded the connection to the target's port.
    expect(jump.log()).toMatch(new RegExp(`direct-tcpip.*${sshd.port}|target 127\\.0\\.0\\.1 port ${sshd.port}`));
    // Without the jump host's key known, the hop is refused.
    const err = await failure(connect('behind', { knownHostsPath: sshd.knownHosts }));
    expect(err.code).toBe('EHOSTKEYUNKNOWN');
    expect(err.message).toContain(`[127.0.0.1]:${jump.port}`);
  });

  it('an unknown host key is refused with its fingerprint, or saved when accepted; then silent', async () => {
    const known = path.join(work, 'known_new');
    fs.writeFileSync(known, '');
    const asked: Array<{ host: string; port: number; keyType: string; fingerprint: string }> = [];
    const refused = await failure(
      connect('box', {
        knownHostsPath: known,
        confirmHostKey: (info) => {
          asked.push(info);
          return Promise.resolve(false);
        },
      }),
    );
    expect(refused.code).toBe('EHOSTKEYUNKNOWN');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ host: '127.0.0.1', port: sshd.port, keyType: 'ssh-ed25519' });
    expect(asked[0]?.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(refused.message).toContain(asked[0]?.fingerprint);
    expect(fs.readFileSync(known, 'utf8')).toBe('');

    const link = await connect('box', { knownHostsPath: known, confirmHostKey: () => Promise.resolve(true) });
    link.close();
    expect(fs.readFileSync(known, 'utf8')).toBe(sshd.knownHostsLine + '\n');
    let askedAgain = false;
    const again = await connect('box', {
      knownHostsPath: known,
      confirmHostKey: () => {
        askedAgain = true;
        return Promise.resolve(false);
      },
    });
    again.close();
    expect(askedAgain).toBe(false);
    // Without a confirm callback (CLI without --accept-new-host-key) an unknown key is refused with the fix.
    const cli = await failure(connect('box', { knownHostsPath: path.join(work, 'empty') }));
    expect(cli.hint).toMatch(/--accept-new-host-key/);
  });

  it('a changed host key is refused, naming the file and line of the old key; never asked', async () => {
    const other = makeKey(work, 'other_host');
    const oldLine = `[127.0.0.1]:${sshd.port} ${fs.readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}`;
    const known = path.join(work, 'known_changed');
    fs.writeFileSync(known, `# first line\n${oldLine}\n`);
    let asked = false;
    const err = await failure(
      connect('box', {
        knownHostsPath: known,
        confirmHostKey: () => {
          asked = true;
          return Promise.resolve(true);
        },
      }),
    );
    expect(asked).toBe(false);
    expect(err.code).toBe('EHOSTKEYCHANGED');
    expect(err.message).toMatch(/man-in-the-middle/);
    expect(err.message).toContain(`${known} line 2`);
    expect(err.hint).toContain(`remove line 2 of ${known}`);
    expect(fs.readFileSync(known, 'utf8')).toBe(`# first line\n${oldLine}\n`);
  });

  it('a client key the server does not know gives a clear auth error listing what was tried', async () => {
    const stranger = makeKey(work, 'stranger');
    const host = resolveTarget(`root@127.0.0.1:${sshd.port}`, { sshConfigPath: cfg });
    host.identityFiles = [stranger, path.join(work, 'missing_key')];
    host.identityFilesConfigured = true;
    const err = await failure(openSshLink(host, { knownHostsPath: sshd.knownHosts, ...noAgent }));
    expect(err.code).toBe('ESSHAUTH');
    expect(err.message).toContain('stranger: refused by the server');
    expect(err.message).toContain('missing_key: file not found');
    expect(err.hint).toMatch(/authorized_keys|ssh-add/);
  });

  it('a server that never answers times out with a clear error', async () => {
    const silent = net.createServer(() => undefined); // accepts, never sends an SSH banner
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const err = await failure(connect(`root@127.0.0.1:${port}`, { readyTimeoutMs: 800 }));
      expect(err.code).toBe('ESSHTIMEOUT');
      expect(err.hint).toMatch(/reachable/);
    } finally {
      silent.close();
    }
  });

  it('connection refused and unknown hosts name the cause', async () => {
    const closed = await failure(connect('root@127.0.0.1:1'));
    expect(closed.code).toBe('ESSHREFUSED');
    expect(closed.hint).toMatch(/sshd running/);
    const dns = await failure(connect('root@no-such-host.invalid'));
    expect(dns.code).toBe('ESSHHOST');
  });
});
