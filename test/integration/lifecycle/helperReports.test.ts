// What the helper reports besides events, on the real kernel: verifier data for programs that
// load (and a load that attaches nothing, for `verify`), an ERROR whose text is too long for a
// frame (cut with a marker, never dropped), and input that is not a frame (no byte of it shown).
import { spawn } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand, encodeLoad, FrameDecoder, type HelperMessage, type LoadOptions } from '../../../core/protocol/helper';
import { compileFixture } from '../../support/compile';
import { available } from '../../support/prereq';
import { helperPath, HelperRun, loadedPrograms, prepare } from '../helper/support';
import { burst, lifecycleProgram, pinAccount, type LifecycleProgram } from './support';

const load = (object: Uint8Array, extra: Partial<LoadOptions> = {}): Uint8Array => encodeLoad({ object, attachAll: true, attach: [], overrides: {}, ...extra });

/** The VERIFIER_LOG chunks of one program, joined, and where the last one was. */
function verifierText(messages: HelperMessage[], program: number): { text: string; lastAt: number } {
  let text = '';
  let lastAt = -1;
  messages.forEach((m, i) => {
    if (m.kind === 'verifierLog' && m.program === program) {
      text += m.text;
      lastAt = i;
    }
  });
  return { text, lastAt };
}

const SUMMARY = /processed \d+ insns \(limit \d+\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read \d+/;

describe.skipIf(!available('bpf'))('verifier data, load without attach', () => {
  let prog: LifecycleProgram;
  let object: Uint8Array;
  let h: HelperRun | undefined;
  beforeAll(async () => {
    prepare();
    prog = lifecycleProgram();
    object = await prog.compile();
  });
  afterEach(() => {
    h?.kill();
    h = undefined;
  });

  it('level 1 for a program that loads: its log and summary arrive before LOADED; nothing is attached', async () => {
    const run = (h = HelperRun.start());
    run.send(load(object, { attachAll: false, attach: [], verifierLevel: 1 }));
    const loaded = await run.next('loaded');
    const { text, lastAt } = verifierText(run.messages, 0);
    expect(lastAt).toBeGreaterThanOrEqual(0);
    expect(lastAt).toBeLessThan(run.messages.indexOf(loaded));
    const p = loaded.loaded.programs[0]!;
    expect(p).toMatchObject({ name: 'rbs_lc_burst', attached: false, verifier: { level: 1, truncated: false, bytes: Buffer.byteLength(text) } });
    expect(p.error).toBeUndefined();
    expect(text).toMatch(SUMMARY); // (level 1 of a program that passes is little more)
    expect(text).toMatch(/verification time \d+ usec/);
    // Loaded, not attached: the program sees no burst.
    expect(loadedPrograms(prog.program).length).toBe(1);
    const books = await pinAccount(prog.account);
    try {
      await burst(prog.comm, 4).done;
      expect(books.read().committed).toBe(0);
    } finally {
      books.release();
    }
    run.send(encodeCommand('stop'));
    expect((await run.next('bye')).bye).toMatchObject({ reason: 'stop', detached: 0 });
  });

  it('level 0 is the statistics alone; without verifier data there are no VERIFIER_LOG frames', async () => {
    const run = (h = HelperRun.start());
    run.send(load(object, { attachAll: false, attach: [], verifierLevel: 0 }));
    const loaded = await run.next('loaded');
    const { text } = verifierText(run.messages, 0);
    expect(loaded.loaded.programs[0]!.verifier).toMatchObject({ level: 0, truncated: false });
    expect(text).toMatch(SUMMARY);
    expect(text).not.toMatch(/^0: \(/m);
    expect(text.length).toBeLessThan(1024);
    const plain = (h = HelperRun.start());
    run.kill();
    plain.send(load(object));
    const l2 = await plain.next('loaded');
    expect(l2.loaded.programs[0]!.verifier).toBeUndefined();
    expect(plain.messages.some((m) => m.kind === 'verifierLog')).toBe(false);
  });

  it('a level-2 log larger than the largest buffer is cut with a marker, the program still loads, statistics follow', async () => {
    // RINGBUF_HELPER_VERIFIER_LOG_MAX stands in for the 48 MiB limit (a 48 MiB log takes minutes to verify).
    const child = spawn(helperPath, ['serve'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, RINGBUF_HELPER_VERIFIER_LOG_MAX: '8192' } });
    const run = (h = new HelperRun(child));
    run.send(load(object, { verifierLevel: 2 }));
    const loaded = await run.next('loaded');
    const p = loaded.loaded.programs[0]!;
    const { text } = verifierText(run.messages, 0);
    expect(p).toMatchObject({ attached: true, verifier: { level: 0, truncated: true, bytes: Buffer.byteLength(text) } });
    expect(text).toMatch(/outgrew the largest log buffer and was cut/);
    expect(text.length).toBeGreaterThan(8000); // the cut level-2 log is kept …
    expect(text).toMatch(/^\d+: \(\w\w\) /m); // (level 2: every instruction with its state)
    expect(text.slice(text.indexOf('was cut'))).toMatch(SUMMARY); // … and the statistics come after it
  });
});

describe.skipIf(!available('bpf'))('an ERROR too long for one frame', () => {
  beforeAll(() => prepare());

  it('a verifier log whose JSON escaping would pass 64 MiB arrives cut with a marker, start and end kept — never dropped', async () => {
    // Every source line carries 1500 control characters, which JSON escapes to 6 bytes each; the
    // verifier repeats each line in its log, and rejects the program at its very end.
    const noise = '\x01'.repeat(1500);
    const source = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} esc_counts SEC(".maps");
SEC("tp/sched/sched_process_exec")
int rbs_lc_escape(void *ctx)
{
	__u64 acc = bpf_get_prandom_u32();
	__u32 key = 0;
#pragma unroll
	for (int i = 0; i < 6000; i++) {
		acc = acc * 31 + i; /* ${noise} */
		acc ^= acc >> 3; /* ${noise} */
	}
	__u64 *count = bpf_map_lookup_elem(&esc_counts, &key);
	*count += acc; /* REJECTED AT THE END */
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
    const { bytes } = await compileFixture(source, { name: 'escape_heavy_log', extraArgs: ['-Wno-invalid-source-encoding'] });
    const run = HelperRun.start();
    try {
      run.send(load(bytes));
      const { error } = await run.next('error', () => true, 120_000);
      expect(error).toMatchObject({ code: 'verifier', fatal: true, program: 'rbs_lc_escape' });
      const log = error.log!;
      expect(log).toMatch(/^0: \(85\) call bpf_get_prandom_u32/m);
      expect(log).toMatch(/bytes of the log cut here to fit the 64 MiB frame limit/);
      expect(log).toMatch(/invalid mem access 'map_value_or_null'\nprocessed \d+ insns/); // the end, where the verifier says why
      expect(error.message).toMatch(/invalid mem access/);
      expect((await run.next('bye')).bye.reason).toBe('fatal');
      expect((await run.exited).code).toBe(1);
    } finally {
      run.kill();
    }
  }, 300_000);
});

describe('input that is not a frame', () => {
  it('says so and how to fix it, without showing any byte of it (a password typed before sudo asked)', async () => {
    const secret = 'hunter2-Sup3r!\n';
    const child = spawn(helperPath, ['serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdin.end(secret);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const messages = new FrameDecoder().push(Buffer.concat(out));
    const err = messages.find((m): m is Extract<HelperMessage, { kind: 'error' }> => m.kind === 'error')!;
    expect(err.error).toMatchObject({ code: 'protocol', fatal: true });
    expect(err.error.message).toMatch(/not a valid protocol frame/);
    expect(err.error.hint).toMatch(/sudo/);
    expect(err.error.hint).toMatch(/password/);
    // Neither the bytes nor the number they make as a length (0x746e7568 = 1953396072).
    const said = JSON.stringify(err.error) + stderr;
    expect(said).not.toMatch(/hunt|ter2|Sup3r/);
    expect(said).not.toMatch(/1953396072|746e7568|0x74/i);
    expect(said).not.toMatch(/\d{6,}/);
    expect(messages.at(-1)?.kind).toBe('bye');
    expect(code).toBe(1);
  });
});
