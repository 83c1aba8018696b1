// Connection faults over a real sshd on loopback, caused for real: the network cut
// while the helper uploads (a throttling proxy keeps the upload in flight), while the
// program loads (the helper has attached; its reply is in flight), while events stream
// (sshd killed); a "reboot" (sshd and the helper killed, then sshd back); the helper on
// the target corrupted (hash mismatch → uploaded again). Each time: nothing of ours
// stays in the kernel (the helper sees EOF and detaches, within 2 s), and the message
// says what happened and what to do. Figures: `FAULT-FIGURES ssh-…` lines on stdout.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunError, startRun, type RunHandle } from '../../../core/run/run';
import { connectSshTarget, type SshConnectOptions } from '../../../core/transport/ssh/index';
import { describeError } from '../../../core/util/errors';
import { compileFixture } from '../../support/compile';
import { available, ensureBpfMounts } from '../../support/prereq';
import { addTestUser, descendantPids, startSshd, type SshdInstance, type TestUser } from '../../support/sshd';
import { collect, loadedPrograms, prepare, runCommand, waitProgramsGone } from '../run/support';
import { startProxy, type ThrottlingProxy } from './proxy';
import { faultFixtures, pidsRunning, processAlive, reportFigures, root } from './support';

const hasAll = available('sshd') && available('bpf');
const PROG = 'rbs_fault_exec';

async function until(cond: () => boolean, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The sshd processes serving connections (not the helper they started). */
function sshdSessionPids(s: SshdInstance): number[] {
  return descendantPids(s.pid).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim().startsWith('sshd');
    } catch {
      return false;
    }
  });
}

describe.skipIf(!hasAll)('connection faults over SSH', () => {
  let sshd: SshdInstance;
  let proxy: ThrottlingProxy;
  let work: string;
  let object: string;
  let cacheDir: string;
  let connect: SshConnectOptions;
  const logs: string[] = [];
  const remoteHelper = (): string => path.join(cacheDir, 'ringbuf-helper-x86_64');
  const localHelper = path.join(root, 'helper/build/ringbuf-helper-x86_64');
  let handle: RunHandle | undefined;

  beforeAll(async () => {
    prepare();
    ensureBpfMounts();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-faults-'));
    cacheDir = path.join(work, 'remote-cache');
    object = (await compileFixture(path.join(faultFixtures, 'exec_fault.bpf.c'), { name: 'faults-exec' })).objectPath;
    sshd = await startSshd();
    // Keys outlive the sshd instance: the "rebooted" host comes back with the same ones.
    for (const f of ['host_key', 'host_key.pub', 'client_key', 'client_key.pub']) fs.copyFileSync(path.join(sshd.dir, f), path.join(work, f));
    fs.chmodSync(path.join(work, 'client_key'), 0o600);
    proxy = await startProxy(sshd.port);
    const hostKey = sshd.hostKeyPub.split(' ').slice(0, 2).join(' ');
    fs.writeFileSync(path.join(work, 'known_hosts'), `[127.0.0.1]:${proxy.port} ${hostKey}\n`);
    fs.writeFileSync(path.join(work, 'ssh_config'), `Host faulty\n  HostName 127.0.0.1\n  Port ${proxy.port}\n  User root\n  IdentityFile ${path.join(work, 'client_key')}\n`);
    connect = {
      sshConfigPath: path.join(work, 'ssh_config'),
      knownHostsPath: path.join(work, 'known_hosts'),
      agentSocket: '/nonexistent',
      remoteCacheDir: cacheDir,
      readyTimeoutMs: 5000,
      log: (level, msg) => logs.push(`${level}: ${msg}`),
    };
  }, 120_000);

  afterAll(async () => {
    await handle?.stop();
    await proxy?.close();
    await sshd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('network cut mid-upload: a clear error, no helper left running, the next run uploads again and works', async () => {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    const helperSize = fs.statSync(localHelper).size;
    proxy.setRate(helperSize / 8, Infinity); // ~8 s for the whole upload
    const run = startRun({ file: object, targets: ['faulty'], connect }).catch((e: unknown) => e);
    // Cut once a third of the helper is through.
    const upStart = proxy.bytesUp;
    await until(() => proxy.bytesUp - upStart > helperSize / 3, 20_000, 'upload under way');
    const partial = fs.readdirSync(cacheDir).filter((f) => f.includes('.upload-'));
    expect(partial.length, 'a temporary upload file exists while uploading').toBe(1);
    proxy.cut();
    const t0 = Date.now();
    const err = await run;
    const errorMs = Date.now() - t0;
    proxy.setRate(Infinity, Infinity);
    expect(err).toBeInstanceOf(RunError);
    const text = describeError(err);
    reportFigures('ssh-mid-upload', { errorMs, message: text });
    expect((err as RunError).stage).toBe('connect');
    expect(text).toMatch(/faulty/);
    expect(text).toMatch(/upload/i);
    expect(text).toMatch(/connection.*(lost|closed)|lost.*connection/i);
    expect(text).toMatch(/try again|reconnect|run again/i);
    // Nothing half-written is ever run: the final path does not exist; no helper runs.
    expect(fs.existsSync(remoteHelper())).toBe(false);
    expect(pidsRunning(remoteHelper())).toEqual([]);
    // The next connect uploads again and verifies the hash; the partial file, once old, is cleaned up.
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(cacheDir, partial[0]!), old, old);
    const target = await connectSshTarget('faulty', connect);
    expect(target.uploads).toBe(1);
    expect(sha256(remoteHelper())).toBe(sha256(localHelper));
    expect(fs.readdirSync(cacheDir).filter((f) => f.includes('.upload-'))).toEqual([]);
    await target.close();
  }, 60_000);

  it('network cut mid-load (program attached, reply in flight): clear error, program gone within 2 s', async () => {
    let cutAt = 0;
    const run = startRun({
      file: object,
      targets: ['faulty'],
      connect,
      // Slow the helper's replies once LOAD is sent, so the cut lands between attach and LOADED.
      listeners: { state: (s) => void (s === 'loading' && proxy.setRate(Infinity, 50)) },
    }).catch((e: unknown) => e);
    await until(() => loadedPrograms(PROG).length > 0, 20_000, 'program attached on the target');
    proxy.cut();
    cutAt = Date.now();
    const err = await run;
    proxy.setRate(Infinity, Infinity);
    const goneMs = await waitProgramsGone(PROG, 2000);
    const text = describeError(err);
    reportFigures('ssh-mid-load', { errorMs: Date.now() - cutAt, programsGoneMs: goneMs, message: text });
    expect(err).toBeInstanceOf(RunError);
    expect(text).toMatch(/faulty/);
    expect(text).toMatch(/connection.*(lost|closed)|lost.*connection/i);
    expect(text).toMatch(/load/i);
    await until(() => pidsRunning(remoteHelper()).length === 0, 2000, 'helper exited on the target');
  }, 60_000);

  it('sshd killed mid-stream: the run ends as connection-lost with a clear message; program gone within 2 s', async () => {
    handle = await startRun({ file: object, targets: ['faulty'], connect });
    const got = collect(handle);
    const pid = await runCommand('/bin/true');
    await got.waitFor((e) => e.event?.pid === pid);
    const helpers = pidsRunning(remoteHelper());
    expect(helpers.length).toBe(1);
    for (const p of sshdSessionPids(sshd)) process.kill(p, 'SIGKILL');
    const t0 = Date.now();
    const end = await handle.done;
    const endMs = Date.now() - t0;
    const goneMs = await waitProgramsGone(PROG, 2000);
    await until(() => !processAlive(helpers[0]!), 2000, 'helper exited on the target');
    handle = undefined;
    reportFigures('ssh-mid-stream', { endMs, programsGoneMs: goneMs, message: end.message });
    expect(end.reason).toBe('connection-lost');
    expect(endMs, 'the run notices the lost connection').toBeLessThan(2000);
    expect(end.message).toMatch(/faulty/);
    expect(end.message).toMatch(/connection.*lost/i);
    expect(end.message).toMatch(/detach|reconnect|run again/i);
  }, 60_000);

  it('target reboots (sshd and helper killed): run ends, nothing attached, a clear connect error while down, works once back', async () => {
    handle = await startRun({ file: object, targets: ['faulty'], connect });
    const got = collect(handle);
    const pid = await runCommand('/bin/true');
    await got.waitFor((e) => e.event?.pid === pid);
    const helpers = pidsRunning(remoteHelper());
    // The "reboot": every sshd process and the helper die at once.
    for (const p of [...helpers, ...sshdSessionPids(sshd)]) process.kill(p, 'SIGKILL');
    await sshd.stop();
    const end = await handle.done;
    handle = undefined;
    const goneMs = await waitProgramsGone(PROG, 2000);
    expect(end.reason).toBe('connection-lost');
    // While it is down (the proxy still answers, the host behind it does not).
    const down = await startRun({ file: object, targets: ['faulty'], connect }).catch((e: unknown) => e);
    const downText = describeError(down);
    expect(down).toBeInstanceOf(RunError);
    expect(downText).toMatch(/faulty|127\.0\.0\.1/);
    // Back up: same host key and authorized key, new port behind the same address.
    sshd = await startSshd({ hostKey: path.join(work, 'host_key') });
    sshd.authorize(path.join(work, 'client_key.pub'));
    const oldProxy = proxy;
    proxy = await startProxy(sshd.port);
    await oldProxy.close();
    const hostKey = sshd.hostKeyPub.split(' ').slice(0, 2).join(' ');
    fs.writeFileSync(path.join(work, 'known_hosts'), `[127.0.0.1]:${proxy.port} ${hostKey}\n`);
    fs.writeFileSync(path.join(work, 'ssh_config'), `Host faulty\n  HostName 127.0.0.1\n  Port ${proxy.port}\n  User root\n  IdentityFile ${path.join(work, 'client_key')}\n`);
    handle = await startRun({ file: object, targets: ['faulty'], connect });
    const again = collect(handle);
    const pid2 = await runCommand('/bin/true');
    await again.waitFor((e) => e.event?.pid === pid2);
    await handle.stop();
    handle = undefined;
    reportFigures('ssh-reboot', { programsGoneMs: goneMs, endMessage: end.message, whileDown: downText });
    expect(downText).toMatch(/closed the connection before the SSH handshake/);
    expect(downText).toMatch(/restarting|try again/);
  }, 90_000);

  describe('helper corrupted on the target', () => {
    let user: TestUser;
    beforeAll(() => {
      user = addTestUser('rbsfaults', 'nopasswd');
    });
    afterAll(() => user?.remove());

    it('a flipped byte in ~/.cache/ringbuf-studio/<version>/ is detected by hash and the helper uploaded again', async () => {
      fs.writeFileSync(path.join(work, 'ssh_config_user'), `Host faulty-user\n  HostName 127.0.0.1\n  Port ${proxy.port}\n  User ${user.name}\n  IdentityFile ${path.join(work, 'client_key')}\n`);
      const userConnect: SshConnectOptions = { ...connect, sshConfigPath: path.join(work, 'ssh_config_user') };
      delete userConnect.remoteCacheDir; // the real default: ~/.cache/ringbuf-studio/<version>
      const first = await connectSshTarget('faulty-user', userConnect);
      const remote = first.helperPath!;
      expect(remote).toBe(`${user.home}/.cache/ringbuf-studio/${(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version}/ringbuf-helper-x86_64`);
      await first.close();
      const fd = fs.openSync(remote, 'r+');
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, 4096);
      b[0] = b[0]! ^ 0xff;
      fs.writeSync(fd, b, 0, 1, 4096);
      fs.closeSync(fd);
      expect(sha256(remote)).not.toBe(sha256(localHelper));
      logs.length = 0;
      const second = await connectSshTarget('faulty-user', userConnect);
      expect(second.uploads).toBe(1);
      expect(sha256(remote)).toBe(sha256(localHelper));
      const warn = logs.find((l) => /sha256 mismatch/.test(l));
      reportFigures('ssh-corrupt-helper', { log: warn });
      expect(warn).toMatch(/^warn: helper on faulty-user differs from ours \(sha256 mismatch\); uploading again/);
      // And it runs (through sudo): an event arrives.
      handle = await startRun({ file: object, targets: [second] });
      const got = collect(handle);
      const pid = await runCommand('/bin/true');
      await got.waitFor((e) => e.event?.pid === pid);
      await handle.stop();
      handle = undefined;
      await second.close();
      expect(loadedPrograms(PROG)).toEqual([]);
    }, 60_000);
  });
});
