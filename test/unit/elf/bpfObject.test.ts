import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BpfObjectInfo } from '../../../core/elf/bpfObject';
import { classifySection, readBpfObject } from '../../../core/elf/bpfObject';
import { compileFixture, repoRoot } from '../../support/compile';

const fixture = path.join(repoRoot, 'test/fixtures/objects/maps_progs.bpf.c');
let obj: BpfObjectInfo;
let objBe: BpfObjectInfo;

beforeAll(async () => {
  obj = readBpfObject((await compileFixture(fixture, { name: 'maps_progs' })).bytes, { file: 'maps_progs.bpf.o' });
  objBe = readBpfObject((await compileFixture(fixture, { name: 'maps_progs_eb', target: 'bpfeb' })).bytes);
});

describe('readBpfObject: maps', () => {
  it('reads type and max_entries from the BTF map definitions', () => {
    const byName = new Map(obj.maps.map((m) => [m.name, m]));
    expect(byName.get('events')).toMatchObject({ typeName: 'ringbuf', type: 27, maxEntries: 64 * 4096, hasKeyField: false, hasValueField: false, section: '.maps' });
    expect(byName.get('small_rb')).toMatchObject({ typeName: 'ringbuf', maxEntries: 1000 });
    expect(byName.get('sizeless_rb')?.typeName).toBe('ringbuf');
    expect(byName.get('sizeless_rb')?.maxEntries).toBeUndefined();
    expect(byName.get('perf_events')).toMatchObject({ typeName: 'perf_event_array', keySize: 4, valueSize: 4, hasKeyField: true, hasValueField: true });
    expect(byName.get('drops')).toMatchObject({ typeName: 'percpu_array', maxEntries: 1, keySize: 4, valueSize: 8 });
    expect(byName.get('seen')).toMatchObject({ typeName: 'hash', maxEntries: 10240, keySize: 4, valueSize: 32 });
    expect(obj.maps.map((m) => m.name).sort()).toEqual(['drops', 'events', 'perf_events', 'seen', 'sizeless_rb', 'small_rb']);
  });

  it('gives the same maps for a big-endian object', () => {
    const strip = (o: BpfObjectInfo): unknown => o.maps.map(({ btfVarId: _b, keyTypeId: _k, valueTypeId: _v, ...m }) => m);
    expect(strip(objBe)).toEqual(strip(obj));
    // Register nibbles are swapped in big-endian instructions.
    // (Instruction indices differ: clang emits byte swaps for bpfeb.)
    const calls = (o: BpfObjectInfo): unknown => o.programs.map((p) => p.helperCalls.map((c) => [c.name, c.mapName, c.line]));
    expect(calls(objBe)).toEqual(calls(obj));
    expect(objBe.littleEndian).toBe(false);
  });

  it('reads legacy SEC("maps") struct bpf_map_def', async () => {
    const src = `
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct legacy_map_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct legacy_map_def counts SEC("maps") = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 16 };
struct legacy_map_def pe SEC("maps") = { .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 0 };
SEC("socket") int prog(void *ctx) { __u32 k = 0; return bpf_map_lookup_elem(&counts, &k) != 0; }
char LICENSE[] SEC("license") = "GPL";
`;
    const legacy = readBpfObject((await compileFixture(src, { name: 'legacy_maps' })).bytes);
    expect(legacy.maps).toEqual([
      expect.objectContaining({ name: 'counts', typeName: 'array', keySize: 4, valueSize: 8, maxEntries: 16, section: 'maps' }),
      expect.objectContaining({ name: 'pe', typeName: 'perf_event_array', maxEntries: 0 }),
    ]);
    expect(legacy.programs[0]?.helperCalls[0]).toMatchObject({ name: 'bpf_map_lookup_elem', mapName: 'counts' });
    expect(legacy.programs[0]?.attachKind).toBe('socket');
  });
});

describe('readBpfObject without -g', () => {
  it('has no BTF: maps by name only, programs and helper maps still found', async () => {
    const bare = readBpfObject((await compileFixture(fixture, { name: 'maps_progs_nog', debugInfo: false })).bytes);
    expect(bare.hasBtf).toBe(false);
    expect(bare.hasLineInfo).toBe(false);
    expect(bare.btf).toBeUndefined();
    expect(bare.maps.map((m) => [m.name, m.typeName]).sort()).toEqual(
      ['drops', 'events', 'perf_events', 'seen', 'sizeless_rb', 'small_rb'].map((n) => [n, 'unknown']),
    );
    expect(bare.warnings.join('\n')).toMatch(/compile with -g/);
    const exec = bare.programs.find((p) => p.name === 'handle_exec')!;
    expect(exec.helperCalls.find((c) => c.name === 'bpf_ringbuf_reserve')).toMatchObject({ mapName: 'events' });
    expect(exec.helperCalls[0]?.line).toBeUndefined();
  });
});

describe('readBpfObject: programs and helper calls', () => {
  it('lists every program with its attach kind and target', () => {
    const progs = obj.programs.map((p) => [p.name, p.attachKind, p.attachTarget]);
    expect(progs).toEqual([
      ['handle_exec', 'tracepoint', 'sched/sched_process_exec'],
      ['handle_exit', 'raw_tracepoint', 'sched_process_exit'],
      ['kp_nanosleep', 'kprobe', 'do_nanosleep'],
      ['up_one', 'uprobe', ''],
      ['up_two', 'uprobe', ''],
      ['fe_nanosleep', 'fentry', 'do_nanosleep'],
      ['tpbtf_switch', 'tp_btf', 'sched_switch'],
      ['xdp_pass', 'xdp', ''],
    ]);
    expect(obj.license).toBe('GPL');
    expect(obj.hasBtf).toBe(true);
    expect(obj.hasLineInfo).toBe(true);
  });

  it('finds helper calls with their map and source line', () => {
    const exec = obj.programs.find((p) => p.name === 'handle_exec')!;
    const reserve = exec.helperCalls.find((c) => c.name === 'bpf_ringbuf_reserve');
    expect(reserve).toMatchObject({ helperId: 131, mapName: 'events', line: 64 });
    // The inlined count_drop() looks up `drops`; submit/comm take no map.
    expect(exec.helperCalls.find((c) => c.name === 'bpf_map_lookup_elem')).toMatchObject({ mapName: 'drops', line: 56 });
    expect(exec.helperCalls.find((c) => c.name === 'bpf_ringbuf_submit')?.mapName).toBeUndefined();
    expect(exec.helperCalls.find((c) => c.name === 'bpf_get_current_comm')?.mapName).toBeUndefined();

    const exit = obj.programs.find((p) => p.name === 'handle_exit')!;
    expect(exit.helperCalls.find((c) => c.name === 'bpf_ringbuf_output')).toMatchObject({ mapName: 'small_rb', line: 84 });
    // perf_event_output takes the map in R2.
    expect(exit.helperCalls.find((c) => c.name === 'bpf_perf_event_output')).toMatchObject({ mapName: 'perf_events', line: 85 });
    // Two programs in one section: up_two's call is counted from up_two's start.
    const upTwo = obj.programs.find((p) => p.name === 'up_two')!;
    const out = upTwo.helperCalls[0]!;
    expect(out).toMatchObject({ name: 'bpf_ringbuf_output', mapName: 'sizeless_rb' });
    expect(out.sectionInsnIndex - out.insnIndex).toBe(obj.programs.find((p) => p.name === 'up_one')!.insnCount);
  });

  it('lists globals from .bss/.rodata', () => {
    expect(obj.globals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'target_pid', section: '.rodata', size: 4 }),
        expect.objectContaining({ name: 'total', section: '.bss', size: 8 }),
        expect.objectContaining({ name: 'LICENSE', section: 'license' }),
      ]),
    );
  });

  it('classifies section names', () => {
    expect(classifySection('tp/syscalls/sys_enter_openat')).toEqual({ kind: 'tracepoint', target: 'syscalls/sys_enter_openat' });
    expect(classifySection('raw_tp/sched_switch')).toEqual({ kind: 'raw_tracepoint', target: 'sched_switch' });
    expect(classifySection('uretprobe//bin/bash:readline')).toEqual({ kind: 'uretprobe', target: '/bin/bash:readline' });
    expect(classifySection('ksyscall/execve')).toEqual({ kind: 'ksyscall', target: 'execve' });
    expect(classifySection('usdt/libc.so.6:libc:setjmp')).toEqual({ kind: 'usdt', target: 'libc.so.6:libc:setjmp' });
    expect(classifySection('lsm/bprm_check_security')).toEqual({ kind: 'lsm', target: 'bprm_check_security' });
    expect(classifySection('iter/task')).toEqual({ kind: 'iter', target: 'task' });
    expect(classifySection('cgroup/connect4')).toEqual({ kind: 'cgroup', target: 'connect4' });
    expect(classifySection('tcx/ingress')).toEqual({ kind: 'tc', target: 'ingress' });
    expect(classifySection('uprobex')).toEqual({ kind: 'other', target: '' });
    expect(classifySection('mystery')).toEqual({ kind: 'other', target: '' });
  });
});
