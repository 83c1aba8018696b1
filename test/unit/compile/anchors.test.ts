// Event-type anchors: a struct used only through the bpf_ringbuf_reserve pointer
// ends up in the object's BTF, diagnostics still point at the user's file, and the
// object still loads with libbpf.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorWrapperSource, ANCHOR_PREFIX, ANCHOR_SECTION, eventTypesToAnchor } from '../../../core/compile/anchors';
import { compileBpf, type BuildResult } from '../../../core/compile/build';
import { findOnPath } from '../../../core/util/which';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { available, ensureBpfMounts } from '../../support/prereq';
import { fixturesDir, lineOf, tempDir } from './helpers';

const seed = path.join(fixturesDir, 'seed.bpf.c');

function btfOf(r: BuildResult): NonNullable<ReturnType<typeof readBpfObject>['btf']> {
  if (!r.object) throw new Error('no object');
  const btf = readBpfObject(r.object).btf;
  if (!btf) throw new Error('object has no BTF');
  return btf;
}

describe('event-type anchors', () => {
  const tmp = tempDir('anchors');
  let anchored: BuildResult;
  let plain: BuildResult;
  const before = fs.readFileSync(seed, 'utf8');

  beforeAll(async () => {
    anchored = await compileBpf({ file: seed, outFile: path.join(tmp.dir, 'anchored.bpf.o') });
    plain = await compileBpf({ file: seed, outFile: path.join(tmp.dir, 'plain.bpf.o'), eventTypeAnchors: false });
  });
  afterAll(() => tmp.cleanup());

  it('without anchors, clang leaves struct event out of BTF (the problem)', () => {
    expect(plain.ok).toBe(true);
    expect(btfOf(plain).findByName('event', 'struct')).toBeUndefined();
  });

  it('with anchors, BTF carries struct event with its real layout', () => {
    expect(anchored.ok).toBe(true);
    expect(anchored.anchoredTypes).toEqual(['struct event']);
    const btf = btfOf(anchored);
    const ev = btf.findByName('event', 'struct');
    expect(ev).toMatchObject({ kind: 'struct', size: 32 });
    expect(ev && ev.kind === 'struct' ? ev.members.map((m) => m.name) : []).toEqual(['pid', 'ts', 'comm']);
    // The anchor names its map, for readers that want the map → type link without the source.
    expect(btf.findByName(`${ANCHOR_PREFIX}rb`, 'var')).toBeDefined();
    expect(btf.findByName(ANCHOR_SECTION, 'datasec')).toBeDefined();
  });

  it('the anchor adds no map and no program', () => {
    const a = readBpfObject(anchored.object ?? new Uint8Array());
    const p = readBpfObject(plain.object ?? new Uint8Array());
    expect(a.maps.map((m) => m.name)).toEqual(p.maps.map((m) => m.name));
    expect(a.programs.map((m) => m.name)).toEqual(p.programs.map((m) => m.name));
  });

  it("diagnostics point at the user's file and line, and the user's file is unchanged", () => {
    const w = anchored.diagnostics.find((d) => d.code === '-Wunused-variable');
    expect(w).toMatchObject({ file: seed, line: lineOf(before, 'UNUSED'), severity: 'warning' });
    expect(anchored.diagnostics.every((d) => d.file === seed)).toBe(true);
    expect(fs.readFileSync(seed, 'utf8')).toBe(before);
  });

  it('BTF line info names the user file, so verifier logs map back to it', () => {
    const obj = readBpfObject(anchored.object ?? new Uint8Array());
    const files = new Set<string>();
    for (const list of obj.btfExt?.lineInfo.values() ?? []) for (const li of list) files.add(li.file);
    expect(files.size).toBeGreaterThan(0);
    expect([...files].some((f) => f.endsWith('seed.bpf.c'))).toBe(true);
    expect([...files].some((f) => f.includes('anchors.c'))).toBe(false);
  });

  it('a type the wrapper cannot name (a function-local typedef) falls back to a plain build', async () => {
    const r = await compileBpf({ file: path.join(fixturesDir, 'local-typedef.bpf.c'), outFile: path.join(tmp.dir, 'local.bpf.o') });
    expect(r.ok).toBe(true);
    expect(r.anchoredTypes).toEqual([]);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('an anchor clang refuses costs only its own ring: the others keep their layouts; a scalar is no type name', async () => {
    const file = path.join(fixturesDir, 'mixed-anchors.bpf.c');
    expect(eventTypesToAnchor(fs.readFileSync(file, 'utf8')).map((t) => `${t.map}:${t.typeName}`)).toEqual(['events:struct event', 'locals:local_event_t']);
    const r = await compileBpf({ file, outFile: path.join(tmp.dir, 'mixed.bpf.o') });
    expect(r.ok).toBe(true);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.anchoredTypes).toEqual(['struct event']);
    const btf = btfOf(r);
    const names = [];
    for (let id = 1; id < btf.count; id++) if (btf.kindOf(id) === 'struct') names.push(btf.type(id).name);
    expect(names).toContain('event');
  });

  it('writes nothing but the object into the output folder (the wrapper lives in the cache)', () => {
    expect(fs.readdirSync(tmp.dir).filter((f) => !f.endsWith('.bpf.o'))).toEqual([]);
  });

  it('dynptr records anchor their fixed header type (once per map and type)', () => {
    const src = [
      'struct hdr_t { int pid; };',
      'int f(void *ctx) {',
      '  struct bpf_dynptr ptr; struct hdr_t hdr = {}; long len = 3;',
      '  bpf_ringbuf_reserve_dynptr(&events, sizeof(hdr) + len, 0, &ptr);',
      '  bpf_ringbuf_reserve_dynptr(&other, sizeof(struct other_hdr) + len, 0, &ptr);',
      '  bpf_ringbuf_reserve_dynptr(&events, sizeof(hdr) + 2 * len, 0, &ptr);',
      '}',
    ].join('\n');
    expect(eventTypesToAnchor(src)).toEqual([
      { map: 'events', typeName: 'struct hdr_t', line: 4 },
      { map: 'other', typeName: 'struct other_hdr', line: 5 },
    ]);
  });

  it('a source path an #include cannot spell gets no wrapper', () => {
    expect(anchorWrapperSource('/tmp/we"ird.bpf.c', [{ map: 'rb', typeName: 'struct event', line: 1 }])).toBeUndefined();
    expect(anchorWrapperSource('/tmp/ok.bpf.c', [{ map: 'rb', typeName: 'struct event; int x', line: 1 }])).toBeUndefined();
  });
});

const bpftool = findOnPath('bpftool');
describe.skipIf(!available('bpf') || !bpftool)('an anchored object loads with libbpf', () => {
  it('bpftool prog loadall accepts it (libbpf skips the anchor section)', async () => {
    ensureBpfMounts();
    const tmp = tempDir('anchors-load');
    const pin = `/sys/fs/bpf/rbs-anchor-test-${process.pid}`;
    try {
      const r = await compileBpf({ file: seed, outFile: path.join(tmp.dir, 'seed.bpf.o') });
      expect(r.ok).toBe(true);
      const load = spawnSync(bpftool ?? 'bpftool', ['-d', 'prog', 'loadall', r.objectPath ?? '', pin], { encoding: 'utf8' });
      expect(load.stderr).toContain(`skipping unrecognized data section`);
      expect(load.status, load.stderr.split('\n').filter((l) => !l.startsWith('libbpf: elf:')).slice(-30).join('\n')).toBe(0);
      expect(fs.readdirSync(pin)).toEqual(['on_exec']);
    } finally {
      execFileSync('rm', ['-rf', pin]);
      tmp.cleanup();
    }
  });
});
