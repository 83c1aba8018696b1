// `verifyProgram` and `ringbuf-studio verify` against the real kernel: each failure category
// rejected afresh (line, category, the state that shows why), nothing left loaded, every
// program of an object verified on its own, programs that pass with the verifier's figures, a
// second target over real SSH, and the complexity of a program near the 1M-instruction limit
// with its heat map — all from the helper's verifier data.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toVerifyJson, verifyProgram, type TargetVerdict } from '../../../core/run/verify';
import { loadedPrograms } from '../../support/bpfPrograms';
import { startChild } from '../../support/child';
import { compileFixture } from '../../support/compile';
import { available } from '../../support/prereq';
import { startSshd, type SshdInstance } from '../../support/sshd';
import { prepare, root } from '../run/support';

const dir = path.join(root, 'test/fixtures/verifier');
const cli = path.join(root, 'dist/cli.js');
const fixture = (name: string): string => path.join(dir, `${name}.bpf.c`);
const lineOf = (file: string, marker: string): number => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;

const cases: Array<{ name: string; program: string; category: string; marker: string; state?: [string, RegExp] }> = [
  { name: 'null_check', program: 'rbs_v_null', category: 'null-check', marker: 'REJECTED HERE', state: ['R1', /^ringbuf_mem_or_null\(/] },
  { name: 'out_of_bounds', program: 'rbs_v_oob', category: 'out-of-bounds', marker: 'REJECTED HERE', state: ['R6', /^map_value\(.*umax=0x7fffffff8/] },
  { name: 'unreleased_reference', program: 'rbs_v_leak', category: 'unreleased-reference', marker: 'REJECTED HERE' },
  { name: 'invalid_access', program: 'rbs_v_scalar', category: 'invalid-access', marker: 'REJECTED HERE', state: ['R7', /^scalar\(/] },
  { name: 'unbounded_loop', program: 'rbs_v_loop', category: 'unbounded-loop', marker: 'REJECTED HERE' },
  { name: 'too_complex', program: 'rbs_v_complex', category: 'too-complex', marker: 'BRANCHES HERE' },
  { name: 'other', program: 'rbs_v_license', category: 'other', marker: 'REJECTED HERE' },
];

describe.skipIf(!available('bpf'))('verify on the local kernel', () => {
  beforeAll(() => prepare({ cli: true }));

  for (const c of cases) {
    it(`${c.name}: rejected as ${c.category} on the marked line, nothing stays loaded`, async () => {
      const [v] = await verifyProgram(fixture(c.name), { logLevel: 2 });
      expect(v?.failure).toBeUndefined();
      const p = v!.programs.find((x) => x.name === c.program)!;
      expect(p.loaded).toBe(false);
      expect(p.error).toMatchObject({ category: c.category, at: { file: fixture(c.name), line: lineOf(fixture(c.name), c.marker) } });
      expect(p.insnsProcessed).toBeGreaterThan(0);
      if (c.state) {
        const failing = p.explanation!.path.flatMap((l) => l.steps).find((s) => s.failing)!;
        expect(failing.slots.find((s) => s.name === c.state![0])?.value).toMatch(c.state[1]);
      }
      expect(loadedPrograms(c.program)).toEqual([]);
    }, 120_000);
  }

  it('several programs in one object: each verified on its own — the one after the rejected one too — with its figures', async () => {
    const file = fixture('several_programs');
    const [v] = await verifyProgram(file, { logLevel: 1 });
    expect(v!.programs.map((p) => [p.name, p.loaded, p.error?.category ?? null])).toEqual([
      ['rbs_v_sev_good', true, null],
      ['rbs_v_sev_bad', false, 'null-check'],
      ['rbs_v_sev_after', true, null],
    ]);
    expect(v!.programs[1]!.error?.at.line).toBe(lineOf(file, 'REJECTED HERE'));
    // Figures for every program; the two small ones that load also get their heat map (level 2, cheap).
    const [good, , after] = v!.programs;
    expect(good).toMatchObject({ insnsProcessed: expect.any(Number), totalStates: expect.any(Number), peakStates: expect.any(Number), logLevel: 2 });
    expect(good!.insnsProcessed).toBeGreaterThan(after!.insnsProcessed!);
    expect(good!.explanation?.heatComplete).toBe(true);
    expect(good!.explanation?.heat.map((h) => h.line)).toContain(lineOf(file, '*pid = bpf_get_current_pid_tgid() >> 32;'));
    for (const name of ['rbs_v_sev_good', 'rbs_v_sev_bad', 'rbs_v_sev_after']) expect(loadedPrograms(name)).toEqual([]);
  }, 120_000);

  it('a rejection small enough is explained from the level 2 log (every path), a huge one from level 1', async () => {
    const [leak] = await verifyProgram(fixture('unreleased_reference'), { logLevel: 2 });
    expect(leak!.programs[0]!.log).toMatch(/^from 14 to 18: /m);
    expect(leak!.programs[0]!.explanation?.heatComplete).toBe(true);
    const [complex] = await verifyProgram(fixture('too_complex'), { logLevel: 2 });
    expect(complex!.programs[0]!.insnsProcessed).toBe(1000001);
    expect(complex!.programs[0]!.explanation?.heatComplete).toBe(false);
  }, 180_000);

  it('`verify --format json` prints the fixed shape and exits 1 for a rejection, 0 for a program that loads', async () => {
    const bad = startChild(process.execPath, [cli, 'verify', 'null_check.bpf.c', '--format', 'json'], { cwd: dir });
    expect(await bad.exited, bad.stderr()).toBe(1);
    const out = JSON.parse(bad.stdout()) as ReturnType<typeof toVerifyJson>;
    expect(out).toEqual({
      target: 'local',
      programs: [
        {
          name: 'rbs_v_null',
          loaded: false,
          insns_processed: 8,
          total_states: 0,
          peak_states: 0,
          error: {
            line: lineOf(fixture('null_check'), 'REJECTED HERE'),
            column: 2,
            message: 'R1 type=ringbuf_mem_or_null expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_',
            category: 'null-check',
            hint: expect.stringMatching(/may be NULL.*if \(!e\) return 0;/),
          },
        },
      ],
    });
    const good = startChild(process.execPath, [cli, 'verify', 'near_limit.bpf.c', '--format', 'json'], { cwd: dir });
    expect(await good.exited, good.stderr()).toBe(0);
    // A program that loads: the kernel's figures (the loop runs 60 000 times, 14 instructions each).
    expect(JSON.parse(good.stdout())).toEqual({
      target: 'local',
      programs: [{ name: 'rbs_v_near', loaded: true, insns_processed: expect.any(Number), total_states: expect.any(Number), peak_states: expect.any(Number), error: null }],
    });
    const near = (JSON.parse(good.stdout()) as ReturnType<typeof toVerifyJson>).programs[0]!;
    expect(near.insns_processed).toBeGreaterThan(800_000);
    expect(near.insns_processed).toBeLessThan(1_000_000);
    expect(near.total_states).toBeGreaterThan(1000);
    expect(loadedPrograms('rbs_v_near')).toEqual([]);
  }, 180_000);

  it('`verify` in text: the line like a compiler, the register, why and the fix; a file that does not compile exits 1 with clang\'s error', async () => {
    const r = startChild(process.execPath, [cli, 'verify', 'invalid_access.bpf.c'], { cwd: dir });
    expect(await r.exited).toBe(1);
    const line = lineOf(fixture('invalid_access'), 'REJECTED HERE');
    expect(r.stdout()).toContain(`invalid_access.bpf.c:${line}:2: error: R7 invalid mem access 'scalar' [invalid-access]`);
    expect(r.stdout()).toMatch(/R7 = scalar\(\): any number/);
    expect(r.stdout()).toMatch(/fix: Read kernel memory with bpf_probe_read_kernel/);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-verify-'));
    try {
      fs.writeFileSync(path.join(work, 'broken.bpf.c'), '#include "vmlinux.h"\nint f(void) { return undefined_name; }\n');
      const b = startChild(process.execPath, [cli, 'verify', 'broken.bpf.c'], { cwd: work });
      expect(await b.exited).toBe(1);
      expect(b.stderr()).toMatch(/broken\.bpf\.c:2:\d+: error: .*undefined_name/);
      expect(b.stdout()).toBe('');
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);

  it('a program near the 1M-instruction limit: the figures say how near, cheaply; its heat map (asked for) shows the loop', async () => {
    const file = fixture('near_limit');
    // By default only the statistics: a level 2 log of 840 000 instructions costs ~25 s here.
    const [quick] = await verifyProgram(file);
    const q = quick!.programs[0]!;
    expect(q).toMatchObject({ loaded: true, logLevel: 0, error: null });
    expect(q.explanation).toBeUndefined();
    expect(q.insnsProcessed).toBeGreaterThan(800_000);
    expect(q.insnsProcessed).toBeLessThan(1_000_000);
    // Asked for: the helper's level 2 log, cut at 48 MiB (the kernel keeps its end), gives the heat map.
    const [v] = await verifyProgram(file, { heatMap: 'always' });
    const p = v!.programs[0]!;
    expect(v!.warnings).toBeUndefined();
    expect(p).toMatchObject({ loaded: true, logLevel: 2, insnsProcessed: q.insnsProcessed, totalStates: q.totalStates, error: null });
    expect(p.explanation?.heatComplete).toBe(false); // the log lost its start
    const loopLines = [lineOf(file, 'HOT LOOP'), lineOf(file, 'for (__u32 i = 0')];
    const heat = p.explanation!.heat;
    expect(heat.slice(0, 2).map((h) => h.line).sort()).toEqual(loopLines.sort());
    const seen = heat.reduce((n, h) => n + h.visits, 0);
    const inLoop = heat.filter((h) => loopLines.includes(h.line)).reduce((n, h) => n + h.visits, 0);
    expect(inLoop / seen).toBeGreaterThan(0.99);
    expect(loadedPrograms('rbs_v_near')).toEqual([]);
  }, 300_000);

  it('the same loop with 12 iterations: cheap, so the heat map comes with every verification, complete', async () => {
    const obj = await compileFixture(fixture('near_limit'), { name: 'near_limit_12', defines: { ITERATIONS: '12' } });
    const [v] = await verifyProgram(obj.objectPath);
    const p = v!.programs[0]!;
    expect(v!.source.file).toBe(fixture('near_limit')); // the .o's line info names the source
    expect(p).toMatchObject({ loaded: true, logLevel: 2 });
    expect(p.explanation?.heatComplete).toBe(true);
    const hot = p.explanation!.heat.find((h) => h.line === lineOf(fixture('near_limit'), 'HOT LOOP'));
    // Every iteration's instructions of that line, on every path the verifier walked.
    expect(hot?.visits).toBeGreaterThanOrEqual(12 * 3);
    expect([lineOf(fixture('near_limit'), 'HOT LOOP'), lineOf(fixture('near_limit'), 'for (__u32 i = 0')]).toContain(p.explanation!.heat[0]?.line);
  }, 120_000);
});

describe.skipIf(!(available('bpf') && available('sshd')))('verify on several targets', () => {
  let sshd: SshdInstance;
  beforeAll(async () => {
    prepare();
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('a line per target, in the order given: local and an SSH host, each with its kernel', async () => {
    const spec = 'rbs-verify-host';
    const sshConfigPath = path.join(sshd.dir, 'client_config');
    fs.writeFileSync(sshConfigPath, `Host ${spec}\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n`);
    const verdicts: TargetVerdict[] = await verifyProgram(fixture('null_check'), {
      targets: ['local', spec],
      logLevel: 1,
      connect: { sshConfigPath, knownHostsPath: sshd.knownHosts, agentSocket: '/nonexistent' },
    });
    expect(verdicts.map((v) => v.target)).toEqual(['local', spec]);
    for (const v of verdicts) {
      expect(v.failure, v.failure?.message).toBeUndefined();
      expect(v.kernel).toBe(os.release());
      expect(toVerifyJson(v).programs[0]?.error).toMatchObject({ category: 'null-check', line: lineOf(fixture('null_check'), 'REJECTED HERE') });
    }
  }, 180_000);
});
