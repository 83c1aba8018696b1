// NUL-terminated names in the string tables of ELF and BTF sections.

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A NUL-terminated string at `off` of a string table; bounded by the table. */
export function readCString(table: Uint8Array, off: number): string {
  if (off < 0 || off >= table.length) return '';
  let end = off;
  while (end < table.length && table[end] !== 0) end++;
  let ascii = true;
  for (let i = off; i < end; i++) {
    if ((table[i] ?? 0) >= 0x80) {
      ascii = false;
      break;
    }
  }
  // One flat string at once (char-by-char `+=` builds rope strings that the GC then flattens).
  if (ascii && end - off < 1024) return String.fromCharCode.apply(null, table.subarray(off, end) as unknown as number[]);
  return utf8.decode(table.subarray(off, end));
}
