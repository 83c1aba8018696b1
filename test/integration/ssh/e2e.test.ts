// End to end over SSH with the real helper and the real kernel: load an execve
// program through ssh2, see `true` exec events, and make sure nothing stays
// attached when either side of the connection dies.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSshTarget } from '../../../core/transport/ssh/index';
import type { SshConnectOptions } from '../../../core/transport/ssh/index';
import { compileFixture } from '../../support/compile';
import { loadedProgramNames } from '../../support/bpfPrograms';
import { startChild } from '../../support/child';
import { available, ensureBpfMounts } from '../../support/prereq';
import { waitFor } from '../../support/wait';
import { startSshd } from '../../support/sshd';
import type { SshdInstance } from '../../support/sshd';
import { HelperStream, execProgramSource } from './sshStream';

const hasAll = available('sshd') && available('bpf');

async function programObject(): Promise<{ name: string; bytes: Uint8Array; path: string }> {
  const name = `rbss_${crypto.randomBytes(3).toString('hex')}`;
  const fx = await compileFixture(execProgramSource(name), { name });
  return { name, bytes: fx.bytes, path: fx.objectPath };
}

async function runTrue(times: number): Promise<void> {
  for (let i = 0; i < times; i++) execFileSync('/bin/true');
  await new Promise((r) => setTimeout(r, 100));
}

describe.skipIf(!hasAll)('SSH end to end with the real helper and kernel', () => {
  let a: SshdInstance;
  let b: SshdInstance;
  let work: string;
  let base: SshConnectOptions;

  beforeAll(async () => {
    ensureBpfMounts();
    [a, b] = await Promise.all([startSshd(), startSshd()]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-e2e-'));
    const known = path.join(work, 'known_hosts');
    fs.writeFileSync(known, `${a.knownHostsLine}\n${b.knownHostsLine}\n`);
    const cfg = path.join(work, 'ssh_config');
    fs.writeFileSync(cfg, `Host *\n  IdentityFile ${a.clientKey}\n  IdentityFile ${b.clientKey}\n`);
    base = { sshConfigPath: cfg, knownHostsPath: known, agentSocket: '/nonexistent', remoteCacheDir: path.join(work, 'cache') };
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('streams execve events of `true` over SSH; stopping detaches within 2 s', async () => {
    const prog = await programObject();
    const spec = `root@127.0.0.1:${a.port}`;
    const target = await connectSshTarget(spec, base);
    const s = new HelperStream(await target.spawnHelper(['serve']), spec);
    await s.loadAndStart(prog.bytes);
    expect(loadedProgramNames()).toContain(prog.name);
    await runTrue(3);
    expect(await waitFor(() => s.events.some((e) => e.comm === 'true'), 5000)).toBe(true);
    const ev = s.events.find((e) => e.comm === 'true');
    expect(ev?.host).toBe(spec);
    expect(ev?.pid).toBeGreaterThan(0);
    await s.proc.terminate();
    expect(await waitFor(() => !loadedProgramNames().includes(prog.name), 2000)).toBe(true);
    await target.close();
  });

  it('SIGKILL of the client process: the remote helper detaches within 2 s', async () => {
    const prog = await programObject();
    const driver = path.join(work, 'hold.cjs');
    await esbuild.build({
      entryPoints: [path.join(__dirname, 'holdConnection.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: driver,
      external: ['cpu-features', '*.node'],
      logLevel: 'error',
    });
    // The bundle lives in a temp dir: RINGBUF_STUDIO_ROOT says where the package (and its helpers) is.
    const env = { ...process.env, RINGBUF_STUDIO_ROOT: path.resolve(__dirname, '../../..') };
    const { child, stdout, stderr } = startChild(process.execPath, [driver, JSON.stringify(base), `root@127.0.0.1:${a.port}`, prog.path], { env });
    const attached = await waitFor(() => stdout().includes('attached') || child.exitCode !== null, 20_000);
    expect(attached && stdout().includes('attached'), stderr()).toBe(true);
    expect(loadedProgramNames()).toContain(prog.name);
    child.kill('SIGKILL');
    expect(await waitFor(() => !loadedProgramNames().includes(prog.name), 2000)).toBe(true);
  });

  it('the server side of the session dies: detached within 2 s, the process ends as connection-lost', async () => {
    const prog = await programObject();
    const spec = `root@127.0.0.1:${a.port}`;
    const target = await connectSshTarget(spec, base);
    const s = new HelperStream(await target.spawnHelper(['serve']), spec);
    await s.loadAndStart(prog.bytes);
    expect(loadedProgramNames()).toContain(prog.name);
    const before = a.sessionPids();
    for (const pid of before) process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !loadedProgramNames().includes(prog.name), 2000)).toBe(true);
    expect((await s.proc.exited).connectionLost).toMatch(/lost/);
    await target.close();
  });

  it('two targets at once: both stream, each event tagged with its own host', async () => {
    const prog = await programObject();
    const specs = [`root@127.0.0.1:${a.port}`, `root@127.0.0.1:${b.port}`];
    const targets = await Promise.all(specs.map((sp) => connectSshTarget(sp, base)));
    const streams = await Promise.all(targets.map(async (t) => new HelperStream(await t.spawnHelper(['serve']), t.name)));
    await Promise.all(streams.map((s) => s.loadAndStart(prog.bytes)));
    await runTrue(3);
    for (const s of streams) expect(await waitFor(() => s.events.some((e) => e.comm === 'true'), 5000)).toBe(true);
    const merged = streams.flatMap((s) => s.events).filter((e) => e.comm === 'true');
    expect(new Set(merged.map((e) => e.host))).toEqual(new Set(specs));
    await Promise.all(streams.map((s) => s.proc.terminate()));
    expect(await waitFor(() => !loadedProgramNames().includes(prog.name), 2000)).toBe(true);
    await Promise.all(targets.map((t) => t.close()));
  });
});
