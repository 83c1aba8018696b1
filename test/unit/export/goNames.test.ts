// bpf2go's naming, checked against what bpf2go 0.9.1 generated for the same C names
// (struct my_ev with these members → `type tMyEv struct { A_b int32; DataLocX int32; … }`).
import { describe, expect, it } from 'vitest';
import { bpf2goIdent, bpf2goTypeArg, bpf2goTypeName, goIdentifier } from '../../../core/export/goNames';
import { mainGo, type GoPackageSpec } from '../../../core/export/goSource';
import type { EventLayout } from '../../../core/btf/layoutTypes';
import { StudioError } from '../../../core/util/errors';

describe('goIdentifier (bpf2go internal.Identifier)', () => {
  it.each([
    ['a_b', 'A_b'],
    ['__data_loc_x', 'DataLocX'],
    ['fooBAR_x', 'FooBAR_x'],
    ['x2_y', 'X2Y'],
    ['_Z', 'Z'],
    ['ab__cd', 'AbCd'],
    ['A_B', 'A_B'],
    ['handle_exec', 'HandleExec'],
    ['events', 'Events'],
  ])('%s → %s', (c, go) => expect(goIdentifier(c)).toBe(go));
});

describe('bpf2go names of an exported package', () => {
  it('ident from the file name is a Go identifier', () => {
    expect(bpf2goIdent('execve.bpf.c')).toBe('execve');
    expect(bpf2goIdent('perf-to-ringbuf.bpf.c')).toBe('perfToRingbuf');
    expect(bpf2goIdent('9lives.bpf.c')).toBe('bpf9lives');
  });
  it('event type: -type takes the C name without "struct", Go type is ident + Identifier(name)', () => {
    expect(bpf2goTypeArg('struct exec_event')).toBe('exec_event');
    expect(bpf2goTypeName('execve', 'struct event')).toBe('execveEvent');
    expect(bpf2goTypeName('seed', 'struct exec_event')).toBe('seedExecEvent');
  });
});

function spec(layout: EventLayout): GoPackageSpec {
  return {
    ident: 'prog',
    bpf2goSource: 'bpf/prog.bpf2go.c',
    goArch: 'amd64',
    bigEndian: false,
    rings: [{ map: 'rb', layout }],
    programs: [{ name: 'handle', section: 'tracepoint/sched/sched_process_exec', attachKind: 'tracepoint', attachTarget: 'sched/sched_process_exec' }],
  };
}

const int = (name: string, offset: number): EventLayout['root']['fields'][number] => ({ name, offset, type: { kind: 'int', size: 4, signed: true } });

describe('main.go generation', () => {
  it('decodes into the bpf2go type and writes each field under its C name', () => {
    const go = mainGo(spec({
      typeName: 'struct my_ev', size: 24, origin: 'inferred',
      root: { kind: 'struct', name: 'my_ev', size: 24, fields: [int('a_b', 0), { name: 'comm', offset: 4, type: { kind: 'array', count: 16, elemSize: 1, elem: { kind: 'int', size: 1, signed: true, char: true } } }] },
    }));
    expect(go).toContain('var ev progMyEv');
    expect(go).toContain('b = appendKey(b, "a_b", true)');
    expect(go).toContain('b = appendInt(b, int64(ev.A_b))');
    expect(go).toContain('b = appendCString(b, bytesOfInt8(ev.Comm[:]))');
    expect(go).toContain('link.Tracepoint("sched", "sched_process_exec", objs.Handle, nil)');
  });

  it('a pointer field is refused with the field named and a hint (bpf2go cannot type it)', () => {
    let err: unknown;
    try {
      mainGo(spec({ typeName: 'struct e', size: 8, origin: 'inferred', root: { kind: 'struct', name: 'e', size: 8, fields: [{ name: 'p', offset: 0, type: { kind: 'ptr', size: 8 } }] } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).message).toMatch(/struct e.*field 'p' is a pointer/);
    expect((err as StudioError).hint).toMatch(/__u64/);
  });
});
