// Eight SSH targets in one run (issue 16, "Scale"): eight throwaway sshd on loopback, each
// with its own host key, port and remote cache dir, so one startRun uploads and starts eight
// helpers. They all run on this kernel, so every program sees every trigger; what makes the
// streams distinguishable is the ring itself: each event carries the id of the ring map that
// the program wrote it into (read from the map through BTF), and each target's helper holds
// exactly one such map (its /proc/<pid>/fdinfo says which). So an event tagged `host` h must
// carry h's ring id — a batch handed on under the wrong host would show it.
// The targets log in as a throwaway user with /bin/sh and a NOPASSWD sudo rule (the helper
// runs through `sudo -n`): root's login shell here is bash with a .bashrc that takes about a
// second of CPU per command, which eight targets at once turn into tens of seconds.
// Then one target's SSH connection is killed (its per-connection sshd processes): the run says
// so for that target within 2 s and that helper detaches by itself (its programs, by id, gone
// from the kernel), while the other seven go on delivering; stop → the books per target.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDecoder } from '../../../core/decode/decode';
import { startRun, type RunHandle } from '../../../core/run/run';
import type { RecordBatch } from '../../../core/session/types';
import { connectSshTarget, type SshTarget } from '../../../core/transport/ssh/index';
import { allPrograms } from '../../support/bpfPrograms';
import { available, ensureBpfMounts } from '../../support/prereq';
import { addTestUser, descendantPids, startSshd, type SshdInstance, type TestUser } from '../../support/sshd';
import { waitFor } from '../../support/wait';

const hasAll = available('sshd') && available('bpf');
const HOSTS = 8;
const VICTIM = 3;
const TRIGGERS = 20;

/** Unique per run: the BPF program's name and the trigger's comm (other engineers load programs too). */
const TAG = `rbs8_${crypto.randomBytes(3).toString('hex')}`;

function scaleProgram(tag: string): string {
  const want = [...tag].map((c, i) => `comm[${i}] != '${c}'`).join(' || ');
  return `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct scale_event { __u32 pid; __u32 ring_id; char comm[16]; };

struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 256 * 1024); } events SEC(".maps");

SEC("tp/sched/sched_process_exec")
int ${tag}(void *ctx)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	if (${want})
		return 0;
	struct scale_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	/* Which ring took it: this load's map id (every target loads its own). */
	e->ring_id = ((struct bpf_map *)&events)->id;
	__builtin_memcpy(e->comm, comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;
}

/** The BPF objects a process holds, from /proc/<pid>/fdinfo: ring map ids and program ids. */
function bpfObjectsOf(pid: number): { rings: number[]; programs: number[] } {
  const rings = new Set<number>();
  const programs = new Set<number>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    let info = '';
    try {
      info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed while we listed them
    }
    const field = (name: string): number | undefined => {
      const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(info);
      return m ? Number(m[1]) : undefined;
    };
    if (field('map_type') === 27) rings.add(field('map_id') ?? -1); // BPF_MAP_TYPE_RINGBUF
    const prog = field('prog_id');
    if (prog !== undefined) programs.add(prog);
  }
  return { rings: [...rings], programs: [...programs] };
}

/** The per-connection sshd processes under a listener (not the shell, sudo or helper they started). */
function sessionSshds(sshd: SshdInstance | undefined): number[] {
  if (!sshd) return [];
  return descendantPids(sshd.pid).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('sshd');
    } catch {
      return false; // gone already
    }
  });
}

interface Seen {
  host: string;
  ringId: number;
  comm: string;
  at: number;
}

describe.skipIf(!hasAll)('eight SSH targets in one run', () => {
  let sshds: SshdInstance[] = [];
  let conns: SshTarget[] = [];
  let work: string;
  let trigger: string;
  let user: TestUser | undefined;

  beforeAll(async () => {
    ensureBpfMounts();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-scale-'));
    const t0 = performance.now();
    sshds = await Promise.all(Array.from({ length: HOSTS }, () => startSshd()));
    const sshdMs = performance.now() - t0;
    user = addTestUser(`rbsscale${crypto.randomBytes(2).toString('hex')}`, 'nopasswd');
    const { uid, gid } = fs.statSync(user.home);
    const known = path.join(work, 'known_hosts');
    fs.writeFileSync(known, sshds.map((d) => d.knownHostsLine).join('\n') + '\n');
    const cfg = path.join(work, 'ssh_config');
    fs.writeFileSync(cfg, sshds.map((d, i) => `Host h${i}\n  HostName 127.0.0.1\n  Port ${d.port}\n  User ${user?.name}\n  IdentityFile ${d.clientKey}\n`).join(''));
    // One remote cache dir per target, as eight machines would have (the login user's own).
    const cacheDirs = sshds.map((_, i) => path.join(work, `cache-h${i}`));
    for (const d of cacheDirs) {
      fs.mkdirSync(d, { mode: 0o700 });
      fs.chownSync(d, uid, gid);
    }
    fs.chmodSync(work, 0o755);
    conns = await Promise.all(
      sshds.map((_, i) => connectSshTarget(`h${i}`, { sshConfigPath: cfg, knownHostsPath: known, agentSocket: '/nonexistent', remoteCacheDir: cacheDirs[i] })),
    );
    console.log(`scale: ${HOSTS} sshd started in ${sshdMs.toFixed(0)} ms, connected in ${(performance.now() - t0 - sshdMs).toFixed(0)} ms more`);
    trigger = path.join(work, TAG); // exec'd, its comm is the tag
    fs.copyFileSync('/bin/true', trigger);
    fs.chmodSync(trigger, 0o755);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await Promise.all(sshds.map((d) => d.stop()));
    user?.remove();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('one merged stream with every host; a lost target is reported and detached within 2 s while seven go on; the books per target', async () => {
    const prog = path.join(work, 'scale.bpf.c');
    fs.writeFileSync(prog, scaleProgram(TAG));
    const seen: Seen[] = [];
    const handed = new Map<string, number>();
    const errors: Array<{ target: string; text: string; at: number }> = [];
    // Set once the run says its layout; no trigger fires before.
    let decode: ((b: RecordBatch, i: number) => Record<string, unknown>) | undefined = undefined;
    const t0 = performance.now();
    const run: RunHandle = await startRun({
      file: prog,
      targets: conns,
      listeners: {
        batch: (b) => {
          handed.set(b.host, (handed.get(b.host) ?? 0) + b.count);
          for (let i = 0; i < b.count && decode; i++) {
            const e = decode(b, i);
            seen.push({ host: b.host, ringId: Number(e.ring_id), comm: String(e.comm), at: performance.now() });
          }
        },
        log: (target, level, text) => void (level === 'error' && errors.push({ target, text, at: performance.now() })),
      },
    });
    const startMs = performance.now() - t0;
    const layout = run.layouts.get('events');
    if (!layout) throw new Error('no layout for the events ring');
    const decoder = compileDecoder(layout);
    decode = (b, i) => decoder.decode(b.data, b.offsets[i], b.lengths[i]);
    const names = conns.map((c) => c.name);
    expect(run.targets.map((t) => t.name)).toEqual(names);

    // Each target's helper: its one ring and its programs, by id.
    const owned = new Map(run.targets.map((t) => [t.name, bpfObjectsOf(t.hello.pid)]));
    const ringOf = new Map([...owned].map(([name, o]) => [name, o.rings[0] ?? -1]));
    for (const o of owned.values()) expect(o.rings).toHaveLength(1);
    expect(new Set(ringOf.values()).size).toBe(HOSTS);

    // TRIGGERS execs; every program sees each one, so every host must deliver exactly that many.
    const fire = (): void => {
      for (let i = 0; i < TRIGGERS; i++) execFileSync(trigger);
    };
    const countOf = (host: string): number => seen.filter((s) => s.host === host && s.comm === TAG).length;
    fire();
    const flushed = await run.flush();
    expect(flushed.complete).toBe(true);
    expect(names.map(countOf)).toEqual(names.map(() => TRIGGERS));
    // Every event under a host came through that host's own ring.
    for (const s of seen) expect({ host: s.host, ringId: s.ringId }).toEqual({ host: s.host, ringId: ringOf.get(s.host) });
    const before = names.map(countOf);

    // Lose one target: its per-connection sshd processes die (the monitor and the user's
    // process holding the socket); sudo and the helper under them are left to notice.
    const victim = names[VICTIM] ?? '';
    const victimPid = run.targets[VICTIM]?.hello.pid ?? 0;
    const victimPrograms = owned.get(victim)?.programs ?? [];
    expect(victimPrograms.length).toBeGreaterThan(0);
    const killedAt = performance.now();
    for (const pid of sessionSshds(sshds[VICTIM])) process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => errors.some((e) => e.target === victim), 2000, undefined, 10)).toBe(true);
    const reported = errors.find((e) => e.target === victim);
    expect(reported?.text).toMatch(new RegExp(`${victim}.*lost`));
    const detectedMs = (reported?.at ?? 0) - killedAt;
    const loadedIds = (): Set<number> => new Set(allPrograms().map((p) => p.id));
    expect(await waitFor(() => victimPrograms.every((id) => !loadedIds().has(id)), Math.max(0, 2000 - (performance.now() - killedAt)), undefined, 20)).toBe(true);
    const detachedMs = performance.now() - killedAt;
    expect(() => process.kill(victimPid, 0)).toThrow(); // the helper itself is gone
    expect(errors.filter((e) => e.target !== victim)).toEqual([]);

    // The other seven go on: they deliver every trigger fired after the loss.
    const survivors = run.targets.filter((t) => t.name !== victim);
    fire();
    const again = await Promise.all(survivors.map((t) => t.session.flush()));
    expect(again.every((f) => f.complete)).toBe(true);
    expect(names.map(countOf)).toEqual(names.map((n) => (n === victim ? TRIGGERS : 2 * TRIGGERS)));
    expect(run.state).toBe('running');

    const end = await run.stop();
    const perHost = names.map((n) => seen.filter((s) => s.host === n).length);
    for (const s of seen) expect(s.ringId).toBe(ringOf.get(s.host));
    // The books, per target: survivors exact (final STATS), the lost one could not say what was left.
    expect(end.targets.map((t) => t.target)).toEqual(names);
    for (const [i, t] of end.targets.entries()) {
      expect(t.delivered).toBe(handed.get(t.target) ?? 0);
      expect(t.delivered).toBe(perHost[i]);
      if (t.target === victim) expect({ final: t.final, leftInRing: t.leftInRing }).toEqual({ final: false, leftInRing: null });
      else expect({ final: t.final, leftInRing: t.leftInRing, dropped: t.droppedByProgram }).toEqual({ final: true, leftInRing: 0, dropped: 0 });
    }
    expect(end.closed.find((c) => c.target === victim)?.closed.reason).toBe('connection-lost');
    expect(end.closed.filter((c) => c.target !== victim).map((c) => c.closed.reason)).toEqual(survivors.map((): string => 'stopped'));
    expect(end.reason).toBe('connection-lost');
    expect(end.message).toContain(`${victim}: `);
    const all = new Set([...owned.values()].flatMap((o) => o.programs));
    expect(await waitFor(() => ![...loadedIds()].some((id) => all.has(id)), 2000)).toBe(true);

    console.log(
      `scale: startRun on ${HOSTS} targets ${startMs.toFixed(0)} ms; events per host (${TRIGGERS} triggers before the kill, ${TRIGGERS} after) before the kill ${before.join(' ')}, at the end ${perHost.join(' ')}; ` +
        `${victim} lost: reported after ${detectedMs.toFixed(0)} ms, its programs gone after ${detachedMs.toFixed(0)} ms; end: ${end.message}`,
    );
  }, 60_000);
});
