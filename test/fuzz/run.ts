// Bounded fuzz runner (not part of `npm test`; run through scripts/fuzz.mjs):
//   npm run fuzz                                   every target, 100 000 inputs each
//   npm run fuzz -- --target lint,filter --iterations 5000 --seed 7
//   npm run fuzz -- --json                         summary as JSON on stdout
//   npm run fuzz -- --minimize test-results/fuzz/elf/crash-….bin [--target elf]
//   npm run fuzz -- --replay                       run the saved corpus only
// Findings: test-results/fuzz/<target>/{crash,hang}-<sha1>.bin (+ .txt with the reason).
// A fixed finding's minimised input belongs in test/fuzz/corpus/<target>/ (replayed by
// the unit test and used as a seed from then on).
import fs from 'node:fs';
import path from 'node:path';
import { fuzzTarget, minimize, Replayer, type TargetResult } from './engine';
import { fuzzHelper, helperFails, helperSeeds } from './helperC';
import { corpusFiles, objectSeeds, seedsFor } from './seeds';
import { targets } from './targets';

interface Args {
  targets: string[];
  iterations: number;
  seed: number;
  json: boolean;
  minimize: string | null;
  replay: boolean;
}

const ALL = [...Object.keys(targets), 'helper-c'];

function parseArgs(argv: string[]): Args {
  const a: Args = { targets: [], iterations: 100_000, seed: 1, json: false, minimize: null, replay: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--target':
        a.targets.push(...(v ?? '').split(',').filter(Boolean));
        i++;
        break;
      case '--iterations':
        a.iterations = Number(v);
        if (!Number.isInteger(a.iterations) || a.iterations < 1) throw new Error(`--iterations wants a positive integer, got ${v ?? 'nothing'}`);
        i++;
        break;
      case '--seed':
        a.seed = Number(v);
        i++;
        break;
      case '--minimize':
        a.minimize = v ?? null;
        i++;
        break;
      case '--json':
        a.json = true;
        break;
      case '--replay':
        a.replay = true;
        break;
      case '--':
        break;
      default:
        throw new Error(`unknown argument ${argv[i] ?? ''}; see the header of test/fuzz/run.ts`);
    }
  }
  for (const t of a.targets) if (!ALL.includes(t)) throw new Error(`unknown target ${t}; one of ${ALL.join(', ')}`);
  return a;
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** Frame bodies (kind + payload) when `input` is exactly a sequence of well-formed frames. */
function splitFrames(input: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  const dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let off = 0;
  while (off < input.length) {
    if (input.length - off < 5) return null;
    const len = dv.getUint32(off, true);
    if (len === 0 || len > input.length - off - 4) return null;
    out.push(input.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return out.length ? out : null;
}

function joinFrames(bodies: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(bodies.reduce((n, b) => n + 4 + b.length, 0));
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const b of bodies) {
    dv.setUint32(off, b.length, true);
    out.set(b, off + 4);
    off += 4 + b.length;
  }
  return out;
}

/** Helper streams are length-prefixed frames: drop whole frames, then shrink each body with its length kept true. */
async function minimizeFrames(input: Uint8Array): Promise<Uint8Array> {
  const frames = splitFrames(input);
  if (!frames) return minimize(input, helperFails, { log, maxTries: 4000 });
  if (!(await helperFails(input))) throw new Error('the input does not fail; nothing to minimise');
  let kept = frames;
  for (let i = kept.length - 1; i >= 0 && kept.length > 1; i--) {
    const cand = kept.filter((_, j) => j !== i);
    if (await helperFails(joinFrames(cand))) kept = cand;
  }
  for (let i = 0; i < kept.length; i++) {
    const body = kept[i]!;
    if (body.length < 2) continue;
    const others = kept;
    const withBody = (b: Uint8Array): Uint8Array => joinFrames(others.map((f, j) => (j === i ? b : f)));
    const small = await minimize(body, (b) => (b.length ? helperFails(withBody(b)) : Promise.resolve(false)), { log, maxTries: 3000 });
    kept = kept.map((f, j) => (j === i ? small : f));
  }
  return joinFrames(kept);
}

async function runMinimize(file: string, target: string): Promise<void> {
  const input = new Uint8Array(fs.readFileSync(file));
  let small: Uint8Array;
  if (target === 'helper-c') {
    small = await minimizeFrames(input);
  } else {
    const replayer = new Replayer(target, 2000);
    try {
      small = await minimize(input, async (c) => (await replayer.run(c)) !== null, { log });
    } finally {
      await replayer.close();
    }
  }
  const out = file.replace(/(\.bin)?$/, '.min.bin');
  fs.writeFileSync(out, small);
  log(`minimised ${file}: ${input.length} → ${small.length} bytes → ${out}`);
}

async function replayCorpus(chosen: string[]): Promise<number> {
  let bad = 0;
  for (const target of chosen.filter((t) => t !== 'helper-c')) {
    const replayer = new Replayer(target, 5000);
    for (const f of corpusFiles(target)) {
      const failure = await replayer.run(new Uint8Array(fs.readFileSync(f)));
      if (failure) {
        bad++;
        log(`${path.relative(process.cwd(), f)}: ${failure.split('\n')[0] ?? ''}`);
      }
    }
    await replayer.close();
  }
  return bad;
}

function table(results: TargetResult[]): string {
  const rows = [['target', 'inputs', 'seconds', 'inputs/s', 'crashes', 'hangs', 'slowest ms']];
  for (const r of results) rows.push([r.target, String(r.inputs), r.seconds.toFixed(1), String(r.inputsPerSecond), String(r.crashes), String(r.hangs), String(r.slowestInputMs)]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.minimize) {
    const target = args.targets[0] ?? path.basename(path.dirname(path.resolve(args.minimize)));
    if (!ALL.includes(target)) throw new Error(`cannot tell the target of ${args.minimize}; pass --target`);
    await runMinimize(args.minimize, target);
    return;
  }
  const chosen = args.targets.length ? args.targets : ALL;
  if (args.replay) {
    const bad = await replayCorpus(chosen);
    log(bad ? `${bad} corpus inputs still fail` : 'corpus replay: every input behaves');
    process.exitCode = bad ? 1 : 0;
    return;
  }
  const results: TargetResult[] = [];
  for (const target of chosen) {
    log(`fuzz ${target}: ${args.iterations} inputs (seed ${args.seed})…`);
    let r: TargetResult;
    if (target === 'helper-c') {
      // Inputs here are frames: most go through long-lived processes (stream mode), a few hundred through fresh ones.
      const processes = Math.min(500, Math.max(20, Math.floor(args.iterations / 200)));
      r = await fuzzHelper({
        frames: Math.max(1, args.iterations - processes),
        streams: Math.max(1, Math.ceil(args.iterations / 20_000)),
        processes,
        seed: args.seed,
        seeds: [...helperSeeds((await objectSeeds())[0] ?? new Uint8Array(0)), ...(await seedsFor('helper-c')).slice(-5)],
        log,
      });
    } else {
      r = await fuzzTarget(target, await seedsFor(target), { iterations: args.iterations, seed: args.seed, log });
    }
    log(`  ${r.inputs} inputs in ${r.seconds.toFixed(1)} s (${r.inputsPerSecond}/s), ${r.crashes} crashes, ${r.hangs} hangs, slowest ${r.slowestInputMs} ms`);
    results.push(r);
  }
  const failed = results.some((r) => r.crashes || r.hangs);
  if (args.json) console.log(JSON.stringify({ seed: args.seed, ok: !failed, results }, null, 2));
  else {
    console.log(table(results));
    for (const r of results) for (const f of r.findings.slice(0, 5)) console.log(`  ${r.target}: ${path.relative(process.cwd(), f)}`);
    console.log(failed ? 'FINDINGS: see the files above (npm run fuzz -- --minimize FILE shrinks one)' : 'no crashes, no hangs');
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e: unknown) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 2;
});
