// Seeds for every fuzz target: real clang-compiled objects, their BTF, real C sources,
// encoded protocol frames, filters and webview messages; plus the saved corpus
// (test/fuzz/corpus/<target>/*.bin: minimised inputs of fixed findings, replayed forever).
import fs from 'node:fs';
import path from 'node:path';
import { parseElf } from '../../core/elf/elf';
import { encodeCommand, encodeFlush, encodeHelperMessage, encodeLoad, type HelperMessage } from '../../core/protocol/helper';
import { compileFixture, repoRoot } from '../support/compile';

export const corpusRoot = path.join(repoRoot, 'test/fuzz/corpus');
const enc = new TextEncoder();

export function corpusFiles(target: string): string[] {
  const dir = path.join(corpusRoot, target);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.bin')).sort().map((f) => path.join(dir, f)) : [];
}

export function corpusInputs(target: string): Uint8Array[] {
  return corpusFiles(target).map((f) => new Uint8Array(fs.readFileSync(f)));
}

let objects: Promise<Uint8Array[]> | undefined;
/** Small real objects (both byte orders, BTF maps, legacy-free): fast to mutate and parse. */
export function objectSeeds(): Promise<Uint8Array[]> {
  objects ??= (async () => {
    const fx = (p: string): string => path.join(repoRoot, 'test/fixtures', p);
    return [
      (await compileFixture(fx('objects/maps_progs.bpf.c'), { name: 'maps_progs' })).bytes,
      (await compileFixture(fx('objects/kinds.bpf.c'), { name: 'kinds' })).bytes,
      (await compileFixture(fx('objects/kinds.bpf.c'), { name: 'kinds_eb', target: 'bpfeb' })).bytes,
      (await compileFixture(fx('lint/good.bpf.c'), { name: 'lint-good' })).bytes,
    ];
  })();
  return objects;
}

function sourceSeeds(): Uint8Array[] {
  const files: string[] = [];
  for (const dir of ['test/fixtures/lint', 'test/fixtures/build', 'test/fixtures/run', 'test/fixtures/helper']) {
    const abs = path.join(repoRoot, dir);
    if (fs.existsSync(abs)) files.push(...fs.readdirSync(abs).filter((f) => f.endsWith('.bpf.c')).map((f) => path.join(abs, f)));
  }
  const templates = path.join(repoRoot, 'bpf-templates');
  if (fs.existsSync(templates)) {
    for (const t of fs.readdirSync(templates)) {
      const d = path.join(templates, t);
      if (fs.statSync(d).isDirectory()) files.push(...fs.readdirSync(d).filter((f) => f.endsWith('.bpf.c')).map((f) => path.join(d, f)));
    }
  }
  return files.sort().map((f) => new Uint8Array(fs.readFileSync(f)));
}

/** One of every helper → core frame kind, and core → helper frames. */
export function frameSeeds(object: Uint8Array): Uint8Array[] {
  const records = new Uint8Array(40);
  const dv = new DataView(records.buffer);
  dv.setUint32(0, 12, true);
  records.set(enc.encode('first record'), 8);
  dv.setUint32(24, 5 | 0x40000000, true);
  const messages: HelperMessage[] = [
    {
      kind: 'hello',
      hello: {
        protocol: 2, helper: '0.1.0', kernel: '6.18.0', arch: 'x86_64', pageSize: 4096, btf: true, ringbuf: true, pid: 1, uid: 0,
        features: { progTypes: { tracepoint: true, lsm: false }, attach: { kprobe: false }, bpfLoop: true, dynptr: true },
      },
    },
    { kind: 'log', level: 'warn', more: true, text: "libbpf: map 'rb': failed — ünïcode" },
    {
      kind: 'loaded',
      loaded: {
        maps: [{ name: 'rb', type: 27, typeName: 'ringbuf', maxEntries: 4096, requestedMaxEntries: 1000, keySize: 0, valueSize: 0, ringIndex: 0 }],
        rings: [{ index: 0, name: 'rb', size: 4096 }],
        programs: [
          { name: 'p', section: 'kprobe/x', type: 'kprobe', attachTarget: 'x', attached: false, error: { errno: 2, message: 'm', reason: 'r' } },
        ],
      },
    },
    { kind: 'events', ringIndex: 0, count: 2, timeNs: 1764050000123456789n, records },
    {
      kind: 'stats',
      stats: {
        timeMs: 1, paused: false,
        rings: [{ index: 0, name: 'rb', size: 4096, records: 2, bytes: 40, producerPos: 40, consumerPos: 40, fill: 0 }],
        counters: [{ name: 'dropped', map: '.bss', value: 1 }],
      },
    },
    { kind: 'error', error: { code: 'verifier', fatal: true, errno: 13, message: 'denied', hint: 'h', program: 'p', log: '0: R1=ctx\n' } },
    { kind: 'bye', bye: { reason: 'signal', signal: 'SIGTERM', detached: 1 } },
    {
      kind: 'stats',
      stats: {
        timeMs: 2, paused: true, final: true,
        rings: [{ index: 0, name: 'rb', size: 4096, records: 2, bytes: 40, producerPos: 96, consumerPos: 40, fill: 0.01, leftRecords: 1, leftBytes: 48 }],
        counters: [],
      },
    },
    { kind: 'flushed', flushed: { id: 3, complete: false, rings: [{ index: 0, name: 'rb', records: 2, bytes: 40, consumerPos: 40, goalPos: 96, leftRecords: 1, leftBytes: 48 }] } },
    { kind: 'verifierLog', program: 0, more: false, text: 'processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n' },
  ];
  const helperStream = messages.map((m) => encodeHelperMessage(m));
  const load = encodeLoad({ object, attachAll: false, attach: ['handle_exec', 'x y'], overrides: { events: 4096, 'naïve': 0 }, logLevel: 2 });
  return [
    ...helperStream,
    Buffer.concat(helperStream),
    load,
    Buffer.concat([encodeCommand('start'), encodeCommand('pause'), encodeCommand('resume'), encodeFlush({ id: 1, timeoutMs: 100 }), encodeCommand('stop')]),
    encodeLoad({ object, attachAll: false, attach: [], overrides: {}, verifierLevel: 2, drainTimeoutMs: 500 }),
  ];
}

const filterSeeds = [
  'comm == "bash" && pid > 100',
  "comm != 'bash' || !(pid < 10)",
  'comm contains "ss" and ts >= 0x10',
  'x.y == -2 or not filename ~ "^/usr/"',
  '(pid > 1 && (pid < 2 || comm == "a")) || ts != 0',
];

const panelMessageSeeds: unknown[] = [
  { type: 'ready', id: 1, protocol: 1 },
  { type: 'command', id: 2, command: 'stop' },
  { type: 'export', id: 3, request: { format: 'csv', scope: 'visible', filter: 'pid > 1', hiddenColumns: ['comm'], endSeq: 10, seqs: [1, 2] } },
  { type: 'declareEventType', id: 4, map: 'events' },
  { type: 'viewState', id: 5, view: { filter: '', paused: false, pausedAt: null, autoScroll: true, hiddenColumns: [] } },
  { type: 'log', id: 6, level: 'warn', text: 'x' },
];

/** Every real verifier log in the fixtures (each kernel's, both levels). */
function verifierLogSeeds(): Uint8Array[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.log')) files.push(p);
    }
  };
  for (const d of ['test/fixtures/verifier/logs', 'test/fixtures/run/logs', 'test/fixtures/qemu/logs']) walk(path.join(repoRoot, d));
  return files.sort().map((f) => new Uint8Array(fs.readFileSync(f)));
}

export async function seedsFor(target: string): Promise<Uint8Array[]> {
  const saved = corpusInputs(target);
  switch (target) {
    case 'elf':
      return [...(await objectSeeds()), ...saved];
    case 'btf': {
      const out: Uint8Array[] = [];
      for (const o of await objectSeeds()) {
        const elf = parseElf(o);
        for (const name of ['.BTF', '.BTF.ext']) {
          const s = elf.section(name);
          if (s) out.push(s.data.slice());
        }
      }
      return [...out, ...saved];
    }
    case 'lint':
      return [...sourceSeeds(), ...saved];
    case 'helper-frames':
    case 'helper-c':
      return [...frameSeeds((await objectSeeds())[0] ?? new Uint8Array(0)), ...saved];
    case 'filter':
      return [...filterSeeds.map((s) => enc.encode(s)), ...saved];
    case 'verifier-log':
      return [...verifierLogSeeds(), ...saved];
    case 'panel-message':
      return [...panelMessageSeeds.map((m) => enc.encode(JSON.stringify(m))), ...saved];
    default:
      throw new Error(`unknown fuzz target ${target}`);
  }
}
