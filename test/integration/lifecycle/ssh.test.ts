// The books over SSH (a real sshd on loopback, behind a proxy that can cut the network): a
// burst then stop delivers every record through the channel; flush() works there too; a lost
// connection ends the run saying what is known and what is not.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun, type RunHandle } from '../../../core/run/run';
import type { SshConnectOptions } from '../../../core/transport/ssh/index';
import { available, ensureBpfMounts } from '../../support/prereq';
import { startSshd, type SshdInstance } from '../../support/sshd';
import { startProxy, type ThrottlingProxy } from '../faults/proxy';
import { prepare, waitProgramsGone } from '../run/support';
import { burst, expectBalanced, lifecycleProgram, pinAccount, type LifecycleProgram } from './support';

const hasAll = available('sshd') && available('bpf');

describe.skipIf(!hasAll)('the books over SSH', () => {
  let sshd: SshdInstance;
  let proxy: ThrottlingProxy;
  let work: string;
  let connect: SshConnectOptions;
  let prog: LifecycleProgram;

  beforeAll(async () => {
    prepare();
    ensureBpfMounts();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-lifecycle-ssh-'));
    sshd = await startSshd();
    proxy = await startProxy(sshd.port);
    const hostKey = sshd.hostKeyPub.split(' ').slice(0, 2).join(' ');
    fs.writeFileSync(path.join(work, 'known_hosts'), `[127.0.0.1]:${proxy.port} ${hostKey}\n`);
    fs.writeFileSync(path.join(work, 'ssh_config'), `Host far\n  HostName 127.0.0.1\n  Port ${proxy.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n`);
    connect = { sshConfigPath: path.join(work, 'ssh_config'), knownHostsPath: path.join(work, 'known_hosts'), agentSocket: '/nonexistent', remoteCacheDir: path.join(work, 'cache') };
    prog = lifecycleProgram();
  }, 120_000);

  afterAll(async () => {
    prog?.cleanup();
    await proxy?.close();
    await sshd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function run(): Promise<{ h: RunHandle; account: Awaited<ReturnType<typeof pinAccount>> }> {
    const h = await startRun({ file: prog.source, targets: ['far'], connect });
    return { h, account: await pinAccount(prog.account) };
  }

  it('a 20 000-record burst while paused, then stop: all 20 000 come through the channel before the run ends', async () => {
    const { h, account } = await run();
    try {
      h.pause();
      await new Promise((r) => setTimeout(r, 200));
      await burst(prog.comm, 80).done;
      const end = await h.stop();
      expect(end).toMatchObject({ reason: 'stopped', delivered: 20_000, leftInRing: 0, droppedByProgram: 0 });
      expect(end.message).toBe('20000 events delivered (stopped), 0 left in the ring, 0 dropped by the program');
      expectBalanced(end, account.read());
    } finally {
      account.release();
    }
  }, 60_000);

  it('flush() over SSH: every record committed before it has arrived', async () => {
    const { h, account } = await run();
    try {
      let got = 0;
      h.onBatch((b) => (got += b.count));
      await burst(prog.comm, 80).done;
      const f = await h.flush();
      expect(f.complete).toBe(true);
      expect(got).toBe(account.read().committed);
      await h.stop();
    } finally {
      account.release();
    }
  }, 60_000);

  it('the network cut mid-stream: the run ends as connection-lost, says what it delivered and that the rest is unknown', async () => {
    const { h, account } = await run();
    try {
      await burst(prog.comm, 40).done;
      await h.flush();
      proxy.cut();
      const end = await h.done;
      expect(end.reason).toBe('connection-lost');
      expect(end.leftInRing).toBeNull();
      expect(end.targets[0]).toMatchObject({ final: false, delivered: 10_000 });
      expect(end.message).toMatch(/^far: .*connection.*lost.*; 10000 events delivered, unknown how many left in the ring \(the helper could not send its final count\), 0 dropped by the program; the helper there detaches the program by itself \(reconnect and run again\)$/i);
      expect(end.delivered).toBeLessThanOrEqual(account.read().committed);
      await waitProgramsGone(prog.program, 3000);
    } finally {
      account.release();
    }
  }, 60_000);
});
