import { describe, expect, it } from 'vitest';
import { hexByte, hexOf } from '../../../core/util/hex';

describe('hex', () => {
  const bytes = Uint8Array.from([0x00, 0x0f, 0x10, 0xab, 0xff, 0x7f]);

  it('writes every byte as two lower-case digits', () => {
    expect(hexOf(bytes)).toBe('000f10abff7f');
    expect([0, 9, 10, 255].map(hexByte)).toEqual(['00', '09', '0a', 'ff']);
  });

  it('takes a slice by start and length, and cuts after max bytes with an ellipsis', () => {
    expect(hexOf(bytes, 2, 3)).toBe('10abff');
    expect(hexOf(bytes, 0, 6, 4)).toBe('000f10ab…');
    expect(hexOf(bytes, 0, 4, 4)).toBe('000f10ab');
    expect(hexOf(new Uint8Array(0))).toBe('');
  });
});
