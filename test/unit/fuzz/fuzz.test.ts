// Every TS fuzz target, bounded: mutated inputs from real seeds must end in the
// parser's typed error or a normal return — 0 crashes (foreign exceptions) and 0 hangs
// (per-input guard: > 2 s reported, > 10 s killed). The full 100 000-per-target run is
// `npm run fuzz` (≈ 4 min for the TS targets); here the slow targets get fewer inputs so
// the file stays near a minute. FUZZ_ITERATIONS=N (all targets) and FUZZ_SEED change them.
// Also replays test/fuzz/corpus/<target>/*.bin: inputs of fixed findings stay fixed.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fuzzTarget, minimize, Replayer } from '../../fuzz/engine';
import { corpusFiles, seedsFor } from '../../fuzz/seeds';
import { runOne, targets } from '../../fuzz/targets';

const seed = Number(process.env.FUZZ_SEED ?? 0x5eed);
// Inputs per target, sized from measured rates (elf ≈ 2.2k/s, btf ≈ 7.5k/s, lint ≈ 1.5k/s,
// helper-frames ≈ 0.9k/s, filter and panel-message ≈ 11k/s, verifier-log ≈ 0.5k/s on one core): ≈ 70 s in all.
const counts: Record<string, number> = {
  elf: 20_000,
  btf: 50_000,
  lint: 15_000,
  'helper-frames': 10_000,
  filter: 100_000,
  'panel-message': 100_000,
  'verifier-log': 5_000,
};
const override = process.env.FUZZ_ITERATIONS ? Number(process.env.FUZZ_ITERATIONS) : undefined;

describe('fuzz targets: bad input gives typed errors, never a crash or a hang', () => {
  it('knows a target for every parser the brief names', () => {
    expect(Object.keys(targets).sort()).toEqual(['btf', 'elf', 'filter', 'helper-frames', 'lint', 'panel-message', 'verifier-log']);
  });

  it('a foreign exception counts as a finding (the harness can fail)', () => {
    // A string is not valid JSON → ignored; an object that is not a message → typed error; both fine.
    expect(runOne('panel-message', new TextEncoder().encode('{"type":"ready"}'))).toBeNull();
    const filter = targets.filter!;
    const saved = filter.run.bind(filter);
    filter.run = () => {
      throw new TypeError('boom');
    };
    try {
      expect(runOne('filter', new Uint8Array(1))).toMatch(/^TypeError: boom/);
    } finally {
      filter.run = saved;
    }
  });

  for (const [target, n] of Object.entries(counts)) {
    const iterations = override ?? n;
    it(`${target}: ${iterations} mutated inputs`, async () => {
      const seeds = await seedsFor(target);
      const r = await fuzzTarget(target, seeds, { iterations, seed, slowMs: 2000, hangMs: 10_000 });
      console.log(`fuzz ${target}: ${r.inputs} inputs, ${r.inputsPerSecond}/s, slowest ${r.slowestInputMs} ms`);
      expect(r.messages, `findings saved: ${r.findings.join(', ')}`).toEqual([]);
      expect(r.crashes + r.hangs).toBe(0);
      expect(r.inputs).toBe(iterations);
    }, 240_000);
  }

  it('the minimiser shrinks a failing input to the bytes that matter', async () => {
    const enc = new TextEncoder();
    const input = enc.encode(`${'x'.repeat(3000)}B${'y'.repeat(500)}UG${'z'.repeat(2000)}`);
    const fails = (c: Uint8Array): Promise<boolean> => Promise.resolve(/B[^]*U[^]*G/.test(new TextDecoder().decode(c)));
    expect(new TextDecoder().decode(await minimize(input, fails))).toBe('BUG');
    await expect(minimize(enc.encode('fine'), fails)).rejects.toThrow(/does not fail/);
  });

  it('replays the saved corpus of fixed findings', async () => {
    let replayed = 0;
    for (const target of Object.keys(targets)) {
      const files = corpusFiles(target);
      if (!files.length) continue;
      const replayer = new Replayer(target, 5000);
      try {
        for (const f of files) {
          expect(await replayer.run(new Uint8Array(fs.readFileSync(f))), f).toBeNull();
          replayed++;
        }
      } finally {
        await replayer.close();
      }
    }
    expect(replayed).toBeGreaterThan(0);
  }, 120_000);
});
