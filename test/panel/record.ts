// Records a real run for the panel tests: compiles test/fixtures/panel/exec_events.bpf.c
// with real clang, runs the real helper (`ringbuf-helper serve`, through the TS codec),
// triggers execve events (including one whose file name is HTML markup and one that
// fails with ENOENT), fills the rings while the helper is paused (drops, "ring full"), and writes the RecordBatches + layout + stats as they arrived to
// test/fixtures/panel/recording.json. Root and a BPF-capable kernel are needed.
//
//   npx esbuild test/panel/record.ts --bundle --platform=node --format=esm \
//     --outfile=.cache/panel/record.mjs && node .cache/panel/record.mjs
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseBtf } from '../../core/btf/btf';
import { layoutOf } from '../../core/btf/layout';
import { parseElf } from '../../core/elf/elf';
import type { HelperMessage, Loaded, Stats } from '../../core/protocol/helper';
import { FrameDecoder, encodeCommand, encodeLoad, splitRecords } from '../../core/protocol/helper';
import type { PanelRunInfo } from '../../core/protocol/panel';
import { ensureBpfMounts } from '../support/prereq';
import { compileFixture, repoRoot } from '../support/compile';
import type { Recording, RecordedFrame } from './recording';

export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

async function main(): Promise<void> {
  ensureBpfMounts();
  const helper = path.join(repoRoot, 'helper/build/ringbuf-helper-x86_64');
  if (!fs.existsSync(helper)) execFileSync('make', ['-s', '-C', path.join(repoRoot, 'helper')], { stdio: 'inherit' });
  const src = path.join(repoRoot, 'test/fixtures/panel/exec_events.bpf.c');
  const obj = await compileFixture(src, { name: 'exec_events' });
  const btf = parseBtf(parseElf(obj.bytes).section('.BTF')!.data);
  const layout = { ...layoutOf(btf, 'struct event'), origin: 'inferred' as const };

  const child = spawn(helper, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const decoder = new FrameDecoder();
  const messages: HelperMessage[] = [];
  let wake: (() => void) | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    for (const m of decoder.push(chunk)) messages.push(m);
    wake?.();
  });
  const waitFor = async <K extends HelperMessage['kind']>(kind: K, ms = 10_000): Promise<Extract<HelperMessage, { kind: K }>> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const m = messages.find((x) => x.kind === kind || x.kind === 'error');
      if (m?.kind === 'error') throw new Error(`helper error: ${m.error.message}`);
      if (m) return m as Extract<HelperMessage, { kind: K }>;
      await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
    }
    throw new Error(`no ${kind} from the helper within ${ms} ms`);
  };

  const hello = (await waitFor('hello')).hello;
  child.stdin.write(encodeLoad({ object: obj.bytes, attachAll: true, attach: [], overrides: {} }));
  const loaded: Loaded = (await waitFor('loaded')).loaded;
  const t0 = Date.now();
  const startIndex = messages.length;
  child.stdin.write(encodeCommand('start'));
  await new Promise((r) => setTimeout(r, 300));

  // Real execve events: plain programs, a failing exec (ret = -ENOENT), and a file whose
  // name is HTML markup (its comm is the first 15 bytes of that name).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'panel-rec-'));
  const hostile = path.join(dir, HOSTILE_NAME);
  fs.symlinkSync('/bin/true', hostile);
  for (let round = 0; round < 4; round++) {
    spawnSync('/bin/true');
    spawnSync('/bin/sh', ['-c', 'exit 0']);
    spawnSync(hostile);
    spawnSync(path.join(dir, 'does-not-exist'));
    await new Promise((r) => setTimeout(r, 150));
  }
  // Fill the rings for real: stop draining (PAUSE), keep exec'ing until the 16 KiB ring
  // is full and reservations fail (the program's `dropped` counter), then RESUME.
  child.stdin.write(encodeCommand('pause'));
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 160; i++) spawnSync('/bin/true');
  await new Promise((r) => setTimeout(r, 600));
  child.stdin.write(encodeCommand('resume'));
  await new Promise((r) => setTimeout(r, 700));
  child.stdin.write(encodeCommand('stop'));
  await waitFor('bye');
  child.stdin.end();
  fs.rmSync(dir, { recursive: true, force: true });

  const ringName = new Map(loaded.rings.map((r) => [r.index, r.name]));
  const frames: RecordedFrame[] = [];
  for (const m of messages.slice(startIndex)) {
    if (m.kind === 'events') {
      const { count, offsets, lengths } = splitRecords(m.records, m.count);
      if (count === 0) continue;
      frames.push({
        kind: 'batch',
        host: 'local',
        map: ringName.get(m.ringIndex) ?? `ring${m.ringIndex}`,
        timeMs: Number(m.timeNs / 1_000_000n),
        count,
        data: Buffer.from(m.records).toString('base64'),
        offsets: [...offsets],
        lengths: [...lengths],
      });
    } else if (m.kind === 'stats') {
      frames.push({ kind: 'stats', host: 'local', stats: m.stats satisfies Stats });
    }
  }
  const run: PanelRunInfo = {
    targets: ['local'],
    program: 'exec_events.bpf.c',
    file: 'test/fixtures/panel/exec_events.bpf.c',
    maps: loaded.maps.map((mp) => ({
      name: mp.name,
      type: mp.typeName,
      maxEntries: mp.maxEntries,
      ...(mp.requestedMaxEntries !== undefined ? { requestedMaxEntries: mp.requestedMaxEntries } : {}),
    })),
    programs: loaded.programs.map((p) => ({
      name: p.name,
      attachTo: p.attachTarget || p.section,
      attached: p.attached,
      ...(p.error ? { error: p.error.reason || p.error.message } : {}),
    })),
    eventTypes: [
      { map: 'events', layout },
      { map: 'raw_events', layout: null, reason: 'records are written with bpf_ringbuf_output from a __u64[2] with no declared event type' },
    ],
    state: 'running',
    startTimeMs: t0,
  };
  const recording: Recording = {
    note: 'Recorded by test/panel/record.ts from a real run: real clang, real ringbuf-helper, real kernel.',
    recordedAt: new Date().toISOString(),
    kernel: hello.kernel,
    helper: hello.helper,
    run,
    frames,
  };
  const out = path.join(repoRoot, 'test/fixtures/panel/recording.json');
  fs.writeFileSync(out, JSON.stringify(recording, null, 1) + '\n');
  const events = frames.reduce((n, f) => n + (f.kind === 'batch' ? f.count : 0), 0);
  console.log(`recorded ${events} events in ${frames.filter((f) => f.kind === 'batch').length} batches, ${frames.filter((f) => f.kind === 'stats').length} stats → ${out}`);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
