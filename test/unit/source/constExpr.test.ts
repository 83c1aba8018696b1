// The constant-expression evaluator and the ring size arithmetic.
import { describe, expect, it } from 'vitest';
import { evaluateConstant, parseIntegerLiteral } from '../../../core/source/constExpr';
import { effectiveRingSize, isValidRingSize, recordFootprint } from '../../../core/lint/ringSize';
import { formatLike } from '../../../core/source/fixes';
import { SourceModel } from '../../../core/source/sourceModel';

const noMacros = { macro: (): undefined => undefined };

function ev(text: string, macros: Record<string, string> = {}): number | undefined {
  const v = evaluateConstant(text, { macro: (n) => macros[n] });
  return v === undefined ? undefined : Number(v);
}

describe('constant expressions', () => {
  it.each([
    ['64 * 4096', 262144],
    ['256 * 1024', 262144],
    ['1 << 20', 1048576],
    ['(1<<12)*4', 16384],
    ['0x1000UL', 4096],
    ['4096ULL * 2', 8192],
    ['010', 8],
    ['0b100', 4],
    ['~0 & 0xff', 255],
    ['(8192 | 4096) & ~4095', 12288],
    ['100 / 3 + 100 % 3', 34],
    ['-1 + 2', 1],
    ['1 ? 4096 : 0', 4096],
    ['(__u32)(2 * 4096)', 8192],
    ['(unsigned long)1 << 13', 8192],
  ])('%s = %d', (text, value) => {
    expect(ev(text)).toBe(value);
  });

  it('object-like macros, macros of macros, and recursion guards', () => {
    const macros = { RB_SZ: '(RB_PAGES * PAGE)', RB_PAGES: '3', PAGE: '4096', SELF: 'SELF + 1', A: 'B', B: 'A' };
    expect(ev('RB_SZ', macros)).toBe(12288);
    expect(ev('RB_SZ * 2', macros)).toBe(24576);
    expect(ev('SELF', macros)).toBeUndefined();
    expect(ev('A', macros)).toBeUndefined();
  });

  it('unknown identifiers, division by zero and junk give undefined (quiet)', () => {
    expect(ev('PAGE_SIZE * 4')).toBeUndefined();
    expect(ev('4096 / 0')).toBeUndefined();
    expect(ev('4096 *')).toBeUndefined();
    expect(ev('')).toBeUndefined();
    expect(ev('"str"')).toBeUndefined();
    expect(evaluateConstant('sizeof(struct x)', noMacros)).toBeUndefined();
  });

  it('well-known UAPI constants', () => {
    expect(ev('BPF_MAP_TYPE_RINGBUF')).toBe(27);
    expect(ev('BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP')).toBe(3);
  });

  it('integer literals', () => {
    expect(parseIntegerLiteral('0x10')).toBe(16n);
    expect(parseIntegerLiteral('42lu')).toBe(42n);
    expect(parseIntegerLiteral('1.5')).toBeUndefined();
  });

  it('sizeof of structs from the same file, with nested types, arrays and padding', () => {
    const m = new SourceModel(
      `#define N 16\ntypedef unsigned int u32_t;\nstruct inner { char c; long l; };\nstruct ev { __u32 pid; u32_t uid; char comm[N]; struct inner in; unsigned long long ts; short s; };\nunion u { char a[3]; int b; };\nstruct bits { int a : 3; };\n`,
      'x.c',
    );
    expect(m.sizeofType('struct inner')).toBe(16);
    expect(m.sizeofType('struct ev')).toBe(4 + 4 + 16 + 16 + 8 + 2 + 6);
    expect(m.sizeofType('union u')).toBe(4);
    expect(m.sizeofType('u32_t')).toBe(4);
    expect(m.sizeofType('struct bits')).toBeUndefined(); // bitfields: not guessed
    expect(m.sizeofType('struct unknown')).toBeUndefined();
  });
});

describe('ring sizes', () => {
  it('valid sizes are powers of two multiples of the page size', () => {
    expect(isValidRingSize(4096, 4096)).toBe(true);
    expect(isValidRingSize(256 * 1024, 4096)).toBe(true);
    expect(isValidRingSize(3 * 4096, 4096)).toBe(false);
    expect(isValidRingSize(2048, 4096)).toBe(false);
    expect(isValidRingSize(4096, 16384)).toBe(false);
    expect(isValidRingSize(65536, 65536)).toBe(true);
  });

  it('libbpf\'s silent adjustment: 1000 → 4096, 3*4096 → 16384; arm64 pages', () => {
    expect(effectiveRingSize(1000, 4096)).toBe(4096);
    expect(effectiveRingSize(3 * 4096, 4096)).toBe(16384);
    expect(effectiveRingSize(4097, 4096)).toBe(8192);
    expect(effectiveRingSize(4096, 16384)).toBe(16384);
    expect(effectiveRingSize(70000, 65536)).toBe(131072);
    expect(effectiveRingSize(0, 4096)).toBeUndefined();
    expect(effectiveRingSize(2 ** 31 + 1, 4096)).toBeUndefined();
  });

  it('record footprint includes the 8-byte header and 8-byte padding', () => {
    expect(recordFootprint(1)).toBe(16);
    expect(recordFootprint(8)).toBe(16);
    expect(recordFootprint(9)).toBe(24);
  });

  it('fix text keeps the expression style', () => {
    const m = new SourceModel('#define PAGE 4096\n', 'x.c');
    expect(formatLike('3 * 4096', 16384, m)).toBe('4 * 4096');
    expect(formatLike('4096 * 3', 16384, m)).toBe('4096 * 4');
    expect(formatLike('3 * PAGE', 16384, m)).toBe('4 * PAGE');
    expect(formatLike('300 * 1024', 524288, m)).toBe('512 * 1024');
    expect(formatLike('(1 << 11)', 4096, m)).toBe('(1 << 12)');
    expect(formatLike('0x3000', 16384, m)).toBe('0x4000');
    expect(formatLike('1000', 4096, m)).toBe('4096');
  });
});
