// The helper's LOAD for verifying (flag bit 2) on the real kernel: every program of an object
// gets its own verdict — libbpf stops at the first rejection, the helper leaves it out and
// loads the rest — and a statistics-only rejection is loaded again for its failing path.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand, encodeLoad, type HelperMessage, type LoadOptions } from '../../../core/protocol/helper';
import { compileFixture } from '../../support/compile';
import { available } from '../../support/prereq';
import { HelperRun, loadedPrograms, prepare, root } from '../helper/support';

const dir = path.join(root, 'test/fixtures/verifier');
const fixture = (name: string): string => path.join(dir, `${name}.bpf.c`);
const lineOf = (file: string, marker: string): number => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;
const load = (object: Uint8Array, extra: Partial<LoadOptions>): Uint8Array => encodeLoad({ object, attachAll: false, attach: [], overrides: {}, ...extra });

function logOf(messages: HelperMessage[], program: number): string {
  return messages.map((m) => (m.kind === 'verifierLog' && m.program === program ? m.text : '')).join('');
}

const STATS = /processed \d+ insns \(limit \d+\) max_states_per_insn \d+ total_states \d+ peak_states \d+/;

describe.skipIf(!available('bpf'))('LOAD to verify: each program on its own', () => {
  let several: Uint8Array;
  let h: HelperRun | undefined;
  beforeAll(async () => {
    prepare();
    several = (await compileFixture(fixture('several_programs'), { name: 'several_programs' })).bytes;
  });
  afterEach(() => {
    h?.kill();
    h = undefined;
  });

  it('the rejected program is reported with its failing path, the programs before and after it load, nothing attaches', async () => {
    const run = (h = HelperRun.start());
    run.send(load(several, { verify: true, verifierLevel: 0 }));
    const { loaded } = await run.next('loaded', () => true, 60_000);
    const [good, bad, after] = loaded.programs;
    expect(good).toMatchObject({ name: 'rbs_v_sev_good', loaded: true, attached: false, verifier: { level: 0, truncated: false } });
    expect(good?.rejected).toBeUndefined();
    expect(logOf(run.messages, 0)).toMatch(STATS);
    expect(after).toMatchObject({ name: 'rbs_v_sev_after', loaded: true, attached: false });
    // Rejected at statistics only, loaded again at level 1: the verifier's words and the path to them.
    expect(bad).toMatchObject({ name: 'rbs_v_sev_bad', loaded: false, attached: false, verifier: { level: 1 }, rejected: { errno: 13 } });
    expect(bad?.rejected?.message).toMatch(/^load program 'rbs_v_sev_bad': Permission denied: R\d invalid mem access 'ringbuf_mem_or_null'$/);
    const badLog = logOf(run.messages, 1);
    expect(badLog).toContain(`@ several_programs.bpf.c:${lineOf(fixture('several_programs'), 'REJECTED HERE')}`);
    expect(badLog).toMatch(/^\d+: \(\w\w\) /m);
    expect(badLog).toMatch(STATS);
    // Loaded, not attached: both good programs are in the kernel, the rejected one is not.
    expect(loadedPrograms('rbs_v_sev_good')).toHaveLength(1);
    expect(loadedPrograms('rbs_v_sev_after')).toHaveLength(1);
    expect(loadedPrograms('rbs_v_sev_bad')).toEqual([]);
    run.send(encodeCommand('stop'));
    expect((await run.next('bye')).bye).toMatchObject({ reason: 'stop', detached: 0 });
  }, 120_000);

  it('the list names the programs to verify: the others are not loaded and have no verifier data', async () => {
    const run = (h = HelperRun.start());
    run.send(load(several, { verify: true, verifierLevel: 2, attach: ['rbs_v_sev_after'] }));
    const { loaded } = await run.next('loaded', () => true, 60_000);
    expect(loaded.programs.map((p) => [p.name, p.loaded, p.verifier?.level ?? null])).toEqual([
      ['rbs_v_sev_good', false, null],
      ['rbs_v_sev_bad', false, null],
      ['rbs_v_sev_after', true, 2],
    ]);
    expect(run.messages.filter((m) => m.kind === 'verifierLog').every((m) => m.kind === 'verifierLog' && m.program === 2)).toBe(true);
    expect(logOf(run.messages, 2)).toMatch(/^0: R1=ctx\(\) R10=fp0$/m); // level 2: the state before the first instruction
  }, 60_000);

  it('a name the object does not have is refused, naming the programs it has', async () => {
    const run = (h = HelperRun.start());
    run.send(load(several, { verify: true, attach: ['nope'] }));
    const { error } = await run.next('error');
    expect(error).toMatchObject({ code: 'attach', message: "attach: the object has no program named 'nope'" });
    expect(error.hint).toMatch(/rbs_v_sev_good, rbs_v_sev_bad, rbs_v_sev_after/);
  });
});

describe.skipIf(!available('bpf'))('verifier data at statistics only, for a Run', () => {
  beforeAll(() => prepare());

  it("a rejection's ERROR log has the failing path and the source line, not only the statistics", async () => {
    // Level 0 logs carry the verifier's last words but no instructions: without the level 1
    // reload the rejection could only be placed on the program's SEC line.
    const { bytes } = await compileFixture(fixture('null_check'), { name: 'null_check' });
    const run = HelperRun.start();
    try {
      run.send(load(bytes, { attachAll: true, verifierLevel: 0 }));
      const { error } = await run.next('error', () => true, 60_000);
      expect(error).toMatchObject({ code: 'verifier', errno: 13, program: 'rbs_v_null' });
      expect(error.log).toContain(`@ null_check.bpf.c:${lineOf(fixture('null_check'), 'REJECTED HERE')}`);
      expect(error.log).toMatch(/^\d+: \(85\) call bpf_get_current_comm#\d+$/m);
      expect(error.log).toMatch(STATS);
      expect((await run.exited).code).toBe(1);
    } finally {
      run.kill();
    }
  }, 60_000);
});
