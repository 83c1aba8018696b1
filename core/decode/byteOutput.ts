// The byte writer behind the line serializers (jsonLines.ts, textLines.ts): one reused
// Uint8Array that records are appended to, and the primitives they need — literal bytes,
// integers as digits without an intermediate string, 64-bit integers above 2^53 without
// BigInt, hex, and JSON/text escaping — so printing a record allocates nothing.

import { allocUninitialized } from '../util/bytes';

const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[i * 2] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[i * 2 + 1] = 48 + (i % 10);
}
const HEX_DIGITS = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

export class ByteOutput {
  buf: Uint8Array;
  pos = 0;
  private readonly spare: Uint8Array[] = [];

  /** `chunkBytes`: the size of each buffer; callers take() them when about this full. */
  constructor(readonly chunkBytes = 256 * 1024) {
    this.buf = allocUninitialized(chunkBytes);
  }

  /** Makes room for `n` more bytes (a line larger than what is left grows the buffer). */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = allocUninitialized(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** The bytes written so far; writing goes on in another buffer, so these may be written asynchronously. */
  take(): Uint8Array {
    const taken = this.buf.subarray(0, this.pos);
    this.buf = this.spare.pop() ?? allocUninitialized(this.chunkBytes);
    this.pos = 0;
    return taken;
  }

  /** Gives the memory of a taken chunk back once it has been written. */
  recycle(chunk: Uint8Array): void {
    // Enough spares for the chunks one large batch takes before their writes complete.
    if (chunk.buffer.byteLength === this.chunkBytes && chunk.byteOffset === 0 && this.spare.length < 16) {
      this.spare.push(new Uint8Array(chunk.buffer, 0, this.chunkBytes));
    }
  }
}

export function writeByte(out: ByteOutput, byte: number): void {
  out.buf[out.pos++] = byte;
}

export function writeLiteral(out: ByteOutput, lit: Uint8Array): void {
  const buf = out.buf;
  let p = out.pos;
  for (let i = 0; i < lit.length; i++) buf[p++] = lit[i] as number;
  out.pos = p;
}

const utf8 = new TextEncoder();

/** UTF-8 bytes of a text known at compile time (keys, enum names). */
export function literal(text: string): Uint8Array {
  return utf8.encode(text);
}

function digitsOf(n: number): number {
  if (n < 100000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  return n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}

/** 0 ≤ n < 1e8, as decimal digits. Int32 arithmetic (`| 0`): V8 turns the divisions into multiplications. */
function writeSmall(out: ByteOutput, n: number): void {
  const buf = out.buf;
  n |= 0;
  const end = out.pos + digitsOf(n);
  let p = end;
  while (n >= 100) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    buf[--p] = DIGIT_PAIRS[r + 1] as number;
    buf[--p] = DIGIT_PAIRS[r] as number;
    n = q;
  }
  if (n >= 10) {
    buf[--p] = DIGIT_PAIRS[(n << 1) + 1] as number;
    buf[--p] = DIGIT_PAIRS[n << 1] as number;
  } else {
    buf[--p] = 48 + n;
  }
  out.pos = end;
}

/** 0 ≤ n < 1e8, as exactly 8 digits (leading zeros). */
function write8Digits(out: ByteOutput, n: number): void {
  const buf = out.buf;
  n |= 0;
  let p = out.pos + 8;
  out.pos = p;
  for (let i = 0; i < 4; i++) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    buf[--p] = DIGIT_PAIRS[r + 1] as number;
    buf[--p] = DIGIT_PAIRS[r] as number;
    n = q;
  }
}

/**
 * A non-negative integer given as high·1e8 + low (0 ≤ low < 1e8, 0 ≤ high < 1e8 — true below 2^53): its
 * decimal digits. Hot callers split a value themselves (h = Math.floor(v / 1e8)) so that
 * only small integers cross a call: a double argument is boxed — allocated — when the
 * call is not inlined, and the garbage collector would then pay for every record.
 */
export function writeDecimal(out: ByteOutput, high: number, low: number): void {
  if (high === 0) {
    writeSmall(out, low);
    return;
  }
  writeSmall(out, high);
  write8Digits(out, low);
}

/** How many characters writeDecimal(high, low) prints. */
export function decimalWidth(high: number, low: number): number {
  return high === 0 ? digitsOf(low) : digitsOf(high) + 8;
}

/** A safe integer (|v| < 2^53) as JSON.stringify prints it (for cold paths: v crosses the call). */
export function writeSafeInt(out: ByteOutput, v: number): void {
  if (v < 0) {
    out.buf[out.pos++] = 45; // '-'
    v = -v;
  }
  const high = Math.floor(v / 1e8);
  writeDecimal(out, high, v - high * 1e8);
}

/** The unsigned 64-bit value hi·2^32 + lo as decimal digits, exactly (no BigInt, no string). */
export function writeU64(out: ByteOutput, hi: number, lo: number): void {
  // Base 1e8 limbs: 2^48 = 2814749·1e8 + 76710656 and 2^32 = 42·1e8 + 94967296; every partial product stays < 2^53.
  const hh = Math.floor(hi / 65536);
  const hl = hi - hh * 65536;
  const low = hh * 76710656 + hl * 94967296 + lo;
  const carry = Math.floor(low / 1e8);
  const high = hh * 2814749 + hl * 42 + carry;
  if (high === 0) {
    writeSmall(out, low);
    return;
  }
  writeSafeInt(out, high);
  write8Digits(out, low - carry * 1e8);
}

/** The signed 64-bit value (hi as a signed 32-bit word) as decimal digits, exactly. */
export function writeI64(out: ByteOutput, hi: number, lo: number): void {
  if (hi >= 0) {
    writeU64(out, hi, lo);
    return;
  }
  // Two's complement magnitude: ~(hi:lo) + 1.
  out.buf[out.pos++] = 45;
  const nlo = (~lo >>> 0) + 1;
  writeU64(out, (~hi >>> 0) + (nlo > 0xffffffff ? 1 : 0), nlo >>> 0);
}

/**
 * Whether the 64-bit value hi·2^32 + lo (hi read signed for signed types) is what the
 * decoder returns as a number: |v| < 2^53. Otherwise it is the exact decimal (writeInt64).
 */
export function isSafe64(hi: number, lo: number): boolean {
  return hi >= -0x200000 && hi < 0x200000 && hi * 4294967296 + lo > -9007199254740992;
}

/** The 64-bit value hi·2^32 + lo beyond 2^53 as exact decimal digits (hi signed when `signed`). */
export function writeBigInt64(out: ByteOutput, hi: number, lo: number, signed: boolean): void {
  if (signed) writeI64(out, hi, lo);
  else writeU64(out, hi, lo);
}

/** `n` (0 ≤ n < 2^32) in lower-case hex without leading zeros (at least one digit). */
export function writeHexU32(out: ByteOutput, n: number): void {
  const buf = out.buf;
  let digits = 1;
  while (digits < 8 && n >= 2 ** (4 * digits)) digits++;
  let p = out.pos + digits;
  out.pos = p;
  for (let i = 0; i < digits; i++) {
    buf[--p] = HEX_DIGITS[n & 15] as number;
    n >>>= 4;
  }
}

/** `n` (0 ≤ n < 2^32) as exactly 8 lower-case hex digits. */
export function writeHex8(out: ByteOutput, n: number): void {
  const buf = out.buf;
  let p = out.pos + 8;
  out.pos = p;
  for (let i = 0; i < 8; i++) {
    buf[--p] = HEX_DIGITS[n & 15] as number;
    n >>>= 4;
  }
}

/** bytes[start, end) as lower-case hex, two digits each. */
export function writeHexBytes(out: ByteOutput, bytes: Uint8Array, start: number, end: number): void {
  const buf = out.buf;
  let p = out.pos;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    buf[p++] = HEX_DIGITS[b >> 4] as number;
    buf[p++] = HEX_DIGITS[b & 15] as number;
  }
  out.pos = p;
}

/** `\xNN`, the decoder's spelling of a byte that is not valid UTF-8 (and text output's of a control character). */
export function writeByteEscape(out: ByteOutput, b: number, jsonEscaped: boolean): void {
  const buf = out.buf;
  let p = out.pos;
  buf[p++] = 92;
  if (jsonEscaped) buf[p++] = 92; // JSON.stringify doubles the backslash
  buf[p++] = 120;
  buf[p++] = HEX_DIGITS[b >> 4] as number;
  buf[p++] = HEX_DIGITS[b & 15] as number;
  out.pos = p;
}

/** Length of a valid UTF-8 sequence at i (2–4), or 0 (overlongs, surrogates and > U+10FFFF are invalid). */
export function utf8SequenceLength(b: Uint8Array, i: number, stop: number): number {
  const c = b[i] ?? 0;
  const cont = (k: number): boolean => i + k < stop && ((b[i + k] ?? 0) & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1] ?? 0;
    if (c === 0xe0 && c1 < 0xa0) return 0;
    if (c === 0xed && c1 >= 0xa0) return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1] ?? 0;
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

// JSON.stringify's escapes for the characters below 0x20: \b \t \n \f \r by name, the rest as \u00xx.
const SHORT_ESCAPE = new Uint8Array(32);
SHORT_ESCAPE[8] = 98;
SHORT_ESCAPE[9] = 116;
SHORT_ESCAPE[10] = 110;
SHORT_ESCAPE[12] = 102;
SHORT_ESCAPE[13] = 114;

/** One character below 0x20 (or `"`/`\`) the way JSON.stringify escapes it. */
export function writeJsonEscape(out: ByteOutput, c: number): void {
  const buf = out.buf;
  buf[out.pos++] = 92;
  if (c === 34 || c === 92) {
    buf[out.pos++] = c;
    return;
  }
  const short = SHORT_ESCAPE[c] ?? 0;
  if (short) {
    buf[out.pos++] = short;
    return;
  }
  buf[out.pos++] = 117; // u00xx
  buf[out.pos++] = 48;
  buf[out.pos++] = 48;
  buf[out.pos++] = HEX_DIGITS[c >> 4] as number;
  buf[out.pos++] = HEX_DIGITS[c & 15] as number;
}

/**
 * A C string in [start, end) — up to the first NUL — as the JSON string of what
 * decodeCString makes of it: valid UTF-8 copied as is, other bytes as `\xNN` (its
 * backslash escaped), control characters, `"` and `\` escaped as JSON.stringify does.
 * Needs up to 6 bytes of room per input byte, plus 2.
 */
export function writeJsonCString(out: ByteOutput, bytes: Uint8Array, start: number, end: number): void {
  const buf = out.buf;
  buf[out.pos++] = 34;
  let i = start;
  while (i < end) {
    const b = bytes[i] as number;
    if (b >= 0x20 && b < 0x80 && b !== 34 && b !== 92) {
      buf[out.pos++] = b;
      i++;
    } else if (b === 0) {
      break;
    } else if (b < 0x80) {
      writeJsonEscape(out, b);
      i++;
    } else {
      // A NUL is never a continuation byte, so validating against `end` equals validating against the string's end.
      const n = utf8SequenceLength(bytes, i, end);
      if (n === 0) {
        writeByteEscape(out, b, true);
        i++;
      } else {
        for (let k = 0; k < n; k++) buf[out.pos++] = bytes[i + k] as number;
        i += n;
      }
    }
  }
  buf[out.pos++] = 34;
}

/** Room writeJsonString needs for `s`. */
export function jsonStringRoom(s: string): number {
  return s.length * 6 + 2;
}

/** Any JS string as JSON.stringify writes it (UTF-8; lone surrogates as \udxxx). Needs jsonStringRoom(s). */
export function writeJsonString(out: ByteOutput, s: string): void {
  const buf = out.buf;
  buf[out.pos++] = 34;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20 || c === 34 || c === 92) writeJsonEscape(out, c);
      else buf[out.pos++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        // Well-formed JSON.stringify: a lone surrogate becomes \udxxx.
        buf[out.pos++] = 92;
        buf[out.pos++] = 117;
        writeHexU32(out, c);
        continue;
      }
    }
    writeCodePoint(out, c);
  }
  buf[out.pos++] = 34;
}

function writeCodePoint(out: ByteOutput, c: number): void {
  const buf = out.buf;
  if (c < 0x800) {
    buf[out.pos++] = 0xc0 | (c >> 6);
  } else if (c < 0x10000) {
    buf[out.pos++] = 0xe0 | (c >> 12);
    buf[out.pos++] = 0x80 | ((c >> 6) & 0x3f);
  } else {
    buf[out.pos++] = 0xf0 | (c >> 18);
    buf[out.pos++] = 0x80 | ((c >> 12) & 0x3f);
    buf[out.pos++] = 0x80 | ((c >> 6) & 0x3f);
  }
  buf[out.pos++] = 0x80 | (c & 0x3f);
}

/** A string's UTF-8 bytes as they are (text output). Needs 3 bytes of room per UTF-16 unit. */
export function writeUtf8(out: ByteOutput, s: string): void {
  const r = utf8.encodeInto(s, out.buf.subarray(out.pos));
  out.pos += r.written;
}
