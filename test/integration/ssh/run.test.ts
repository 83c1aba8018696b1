// The run orchestrator (core/run startRun) against SSH targets: build against the
// target's vmlinux.h fetched through the helper, upload once, stream decoded
// execve events, several targets merged with the right host.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDecoder } from '../../../core/decode/decode';
import { startRun } from '../../../core/run/run';
import { copyBatch, type RecordBatch } from '../../../core/session/types';
import type { SshConnectOptions } from '../../../core/transport/ssh/index';
import { available, ensureBpfMounts } from '../../support/prereq';
import { waitFor } from '../../support/wait';
import { startSshd } from '../../support/sshd';
import type { SshdInstance } from '../../support/sshd';
import { execProgramSource } from './sshStream';

const hasAll = available('sshd') && available('bpf');

const PROGRAM = execProgramSource('rbs_ssh_run');

/** An exec of /bin/true: the event the execve program reports. */
const makeExec = (): void => void execFileSync('/bin/true');

describe.skipIf(!hasAll)('startRun over SSH', () => {
  let a: SshdInstance;
  let b: SshdInstance;
  let work: string;
  let prog: string;
  let connect: SshConnectOptions;

  beforeAll(async () => {
    ensureBpfMounts();
    [a, b] = await Promise.all([startSshd(), startSshd()]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-run-'));
    prog = path.join(work, 'exec.bpf.c');
    fs.writeFileSync(prog, PROGRAM);
    const known = path.join(work, 'known_hosts');
    fs.writeFileSync(known, `${a.knownHostsLine}\n${b.knownHostsLine}\n`);
    const cfg = path.join(work, 'ssh_config');
    fs.writeFileSync(cfg, `Host vm-a\n  HostName 127.0.0.1\n  Port ${a.port}\n  User root\n  IdentityFile ${a.clientKey}\nHost vm-b\n  HostName 127.0.0.1\n  Port ${b.port}\n  User root\n  IdentityFile ${b.clientKey}\n`);
    connect = { sshConfigPath: cfg, knownHostsPath: known, agentSocket: '/nonexistent', remoteCacheDir: path.join(work, 'cache') };
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('builds, uploads, loads and streams decoded execve events; the next run reuses the helper', async () => {
    const uploads: string[] = [];
    const batches: RecordBatch[] = [];
    const run = await startRun({
      file: prog,
      targets: ['vm-a'],
      connect: { ...connect, log: (_l, msg) => void (msg.startsWith('uploading helper') && uploads.push(msg)) },
      listeners: { batch: (batch) => batches.push(copyBatch(batch)) },
    });
    const layout = run.layouts.get('events');
    expect(layout).toBeTruthy();
    if (!layout) return;
    const decoder = compileDecoder(layout);
    const decoded = (): Array<Record<string, unknown>> =>
      batches.flatMap((bt) => Array.from({ length: bt.count }, (_, i) => ({ host: bt.host, ...decoder.decode(bt.data, bt.offsets[i], bt.lengths[i]) })));
    expect(await waitFor(() => decoded().some((e) => e.comm === 'true'), 8000, makeExec)).toBe(true);
    const ev = decoded().find((e) => e.comm === 'true');
    expect(ev?.host).toBe('vm-a');
    expect(typeof ev?.pid === 'number' && ev.pid > 0).toBe(true);
    const end = await run.stop();
    expect(end.reason).toBe('stopped');
    expect(uploads).toHaveLength(1);

    const again = await startRun({
      file: prog,
      targets: ['vm-a'],
      connect: { ...connect, log: (_l, msg) => void (msg.startsWith('uploading helper') && uploads.push(msg)) },
    });
    await again.stop();
    expect(uploads).toHaveLength(1); // second run: no upload
  });

  it('two targets at once: one merged stream, each batch tagged with its host', async () => {
    const batches: RecordBatch[] = [];
    const run = await startRun({ file: prog, targets: ['vm-a', 'vm-b'], connect, listeners: { batch: (bt) => batches.push(copyBatch(bt)) } });
    const layout = run.layouts.get('events');
    if (!layout) throw new Error('no layout for events');
    const decoder = compileDecoder(layout);
    const hostsWithTrue = (): Set<string> =>
      new Set(batches.filter((bt) => Array.from({ length: bt.count }, (_, i) => decoder.decode(bt.data, bt.offsets[i], bt.lengths[i])).some((e) => e.comm === 'true')).map((bt) => bt.host));
    expect(await waitFor(() => hostsWithTrue().size === 2, 8000, makeExec)).toBe(true);
    expect(hostsWithTrue()).toEqual(new Set(['vm-a', 'vm-b']));
    await run.stop();
  });
});
