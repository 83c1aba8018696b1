// `verifyProgram` and `ringbuf-studio verify` against the real kernel: each failure category
// rejected afresh (line, category, the state that shows why), nothing left loaded, a program
// that passes, a second target over real SSH, and the complexity of a program near the
// 1M-instruction limit with its heat map.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toVerifyJson, verifyProgram, type TargetVerdict } from '../../../core/run/verify';
import { explainVerifierLog } from '../../../core/verifier/explain';
import { SourceLocator } from '../../../core/verifier/source';
import { loadedPrograms } from '../../support/bpfPrograms';
import { startChild } from '../../support/child';
import { compileFixture } from '../../support/compile';
import { available } from '../../support/prereq';
import { startSshd, type SshdInstance } from '../../support/sshd';
import { loadWithVerifierLog } from '../../support/verifierLogs';
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

  it('several programs in one object: accepted before the rejected one, not verified after it', async () => {
    const file = fixture('several_programs');
    const [v] = await verifyProgram(file, { logLevel: 1 });
    expect(v!.programs.map((p) => [p.name, p.loaded, p.error?.category ?? null])).toEqual([
      ['rbs_v_sev_good', true, null],
      ['rbs_v_sev_bad', false, 'null-check'],
      ['rbs_v_sev_after', false, 'other'],
    ]);
    expect(v!.programs[1]!.error?.at.line).toBe(lineOf(file, 'REJECTED HERE'));
    expect(v!.programs[2]!.error).toMatchObject({ message: "not verified: loading stopped at the rejected program 'rbs_v_sev_bad' (programs load in order)", fix: "Fix 'rbs_v_sev_bad' first, then verify again.", at: { line: lineOf(file, 'sched_process_fork') } });
    expect(loadedPrograms('rbs_v_sev_good')).toEqual([]);
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
    // Figures of programs that load come with the helper's verifier report (issue 15, phase 2).
    expect(JSON.parse(good.stdout())).toEqual({ target: 'local', programs: [{ name: 'rbs_v_near', loaded: true, insns_processed: null, total_states: null, peak_states: null, error: null }] });
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

  it('a program near the 1M-instruction limit: it loads, the figures say how near, the heat map shows the loop', async () => {
    // Until the helper reports verifier logs of programs that load (phase 2), the test's own
    // libbpf loader asks the kernel: statistics (level 4) and the tail of the level 2 log
    // (the kernel keeps the last 64 MiB of a log that would run to ~0.5 GiB).
    const obj = await compileFixture(fixture('near_limit'), { name: 'near_limit' });
    const [stats] = await loadWithVerifierLog(obj.objectPath, 4, 1);
    expect(stats?.result).toBe(0);
    const processed = stats!.parsed.stats!.insnsProcessed;
    expect(processed).toBeGreaterThan(800_000);
    expect(processed).toBeLessThan(1_000_000);
    const [verbose] = await loadWithVerifierLog(obj.objectPath, 2, 64, 0);
    expect(verbose?.result).toBe(-28); // ENOSPC: the log, not the program, was too big
    const log = verbose!.parsed;
    expect(log.truncatedStart).toBe(true);
    expect(log.stats?.insnsProcessed).toBe(processed);
    const explained = explainVerifierLog(log, new SourceLocator({ file: fixture('near_limit') }, { section: 'tp/sched/sched_process_exec' }), { loaded: true });
    const loopLines = [lineOf(fixture('near_limit'), 'HOT LOOP'), lineOf(fixture('near_limit'), 'for (__u32 i = 0')];
    expect(explained.heat.slice(0, 2).map((h) => h.line).sort()).toEqual(loopLines.sort());
    const seen = explained.heat.reduce((n, h) => n + h.visits, 0);
    const inLoop = explained.heat.filter((h) => loopLines.includes(h.line)).reduce((n, h) => n + h.visits, 0);
    expect(inLoop / seen).toBeGreaterThan(0.99);
    expect(loadedPrograms('rbs_v_near')).toEqual([]);
  }, 300_000);
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
