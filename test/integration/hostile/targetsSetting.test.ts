// Trust item 3, the attack as reported: a ringbufStudio.targets entry (e.g. from a cloned
// workspace) whose host is `evil.example,github.com,*.corp.example`, reached through an
// attacker's ProxyJump that forwards any destination to the attacker's sshd. "Trust and
// Connect" used to write that host field unhashed into known_hosts — after which the
// user's own ssh trusted the attacker's key for github.com. The jump host here is a real
// SSH server (ssh2's Server) that forwards every direct-tcpip request to the real sshd.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Server } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSshTarget } from '../../../core/transport/ssh/index';
import { StudioError } from '../../../core/util/errors';
import { available } from '../../support/prereq';
import { freePort, makeKey, startSshd, type SshdInstance } from '../../support/sshd';

/** What `ssh-keygen -F` (OpenSSH's own matching) finds for `host` in `file` ('' for nothing). */
function knownTo(host: string, file: string): string {
  try {
    return execFileSync('ssh-keygen', ['-F', host, '-f', file], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // exit status 1: not found
  }
}

/** An SSH server that accepts anyone and forwards every requested destination to `to`. */
async function startForwardingJump(hostKeyFile: string, to: number): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const server = new Server({ hostKeys: [fs.readFileSync(hostKeyFile)] }, (client) => {
    client.on('authentication', (ctx) => ctx.accept());
    client.on('tcpip', (accept) => {
      const stream = accept();
      const sock = net.connect(to, '127.0.0.1');
      stream.pipe(sock).pipe(stream);
      sock.on('error', () => stream.destroy());
    });
    client.on('error', () => undefined); // a client going away is not the test's business
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe.skipIf(!available('sshd'))('ringbufStudio.targets: a host that is really a list of known_hosts patterns', () => {
  let sshd: SshdInstance;
  let jump: { port: number; stop(): Promise<void> };
  let work: string;
  let knownHosts: string;
  let config: string;

  beforeAll(async () => {
    sshd = await startSshd();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-targets-setting-'));
    const jumpKey = makeKey(work, 'jump_host_key');
    jump = await startForwardingJump(jumpKey, sshd.port);
    knownHosts = path.join(work, 'known_hosts');
    // The user already trusts the jump host (and nothing else).
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${jump.port} ${fs.readFileSync(`${jumpKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    config = path.join(work, 'ssh_config');
    fs.writeFileSync(config, `Host jumpbox\n  HostName 127.0.0.1\n  Port ${jump.port}\n  User anyone\n  IdentityFile ${sshd.clientKey}\nHost *\n  IdentityFile ${sshd.clientKey}\n`);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([sshd?.stop(), jump?.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('is refused before connecting, with a message naming the entry; known_hosts is untouched and nobody is asked', async () => {
    const before = fs.readFileSync(knownHosts, 'utf8');
    let asked = 0;
    const err = await connectSshTarget('lab', {
      sshConfigPath: config,
      knownHostsPath: knownHosts,
      agentSocket: '/nonexistent',
      extraTargets: [{ name: 'lab', host: 'evil.example,github.com,*.corp.example', port: 22, user: 'root', proxyJump: 'jumpbox' }],
      confirmHostKey: () => {
        asked++;
        return Promise.resolve(true); // the user clicks "Trust and Connect"
      },
      remoteCacheDir: path.join(work, 'remote'),
    }).then(
      async (t) => {
        await t.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(fs.readFileSync(knownHosts, 'utf8')).toBe(before);
    expect(knownTo('github.com', knownHosts)).toBe('');
    expect(asked).toBe(0);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('ETARGETSPEC');
    expect((err as StudioError).message).toBe(`ringbufStudio.targets entry "lab": host name 'evil.example,github.com,*.corp.example' contains characters that are not allowed`);
  }, 60_000);
});
