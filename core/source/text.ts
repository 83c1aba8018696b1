// A C source seen as tokens with offsets. Comments are blanked (same length, newlines
// kept) so every offset maps back to the user's text; preprocessor lines are kept
// apart so `#define` bodies never look like code.
import type { SourceRange } from '../diagnostics';

export type TokenKind = 'ident' | 'number' | 'string' | 'char' | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const PUNCT3 = ['<<=', '>>=', '...'];

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
const PUNCT2 = ['->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '##'];

/** Tokenizes a fragment of C (no comments expected, but they are skipped anyway). `base` offsets the positions. */
export function tokenize(code: string, base = 0): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = code.length;
  while (i < n) {
    const c = code[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\\') {
      i++;
      continue;
    }
    if (c === '/' && code[i + 1] === '/') {
      while (i < n && code[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && code[i + 1] === '*') {
      const close = code.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    const start = i;
    if (isIdentStart(code.charCodeAt(i))) {
      while (i < n && isIdentPart(code.charCodeAt(i))) i++;
      out.push({ kind: 'ident', text: code.slice(start, i), start: base + start, end: base + i });
      continue;
    }
    if (isDigit(code.charCodeAt(i)) || (c === '.' && isDigit(code.charCodeAt(i + 1)))) {
      while (i < n && (isIdentPart(code.charCodeAt(i)) || code[i] === '.')) {
        // exponent sign in floats (1e+5) stays part of the number
        if ((code[i] === 'e' || code[i] === 'E' || code[i] === 'p' || code[i] === 'P') && (code[i + 1] === '+' || code[i + 1] === '-') && !/^0[xX]/.test(code.slice(start, i)) ) {
          i += 2;
          continue;
        }
        i++;
      }
      out.push({ kind: 'number', text: code.slice(start, i), start: base + start, end: base + i });
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < n && code[i] !== c && code[i] !== '\n') {
        if (code[i] === '\\') i++;
        i++;
      }
      i = Math.min(n, i + 1);
      out.push({ kind: c === '"' ? 'string' : 'char', text: code.slice(start, i), start: base + start, end: base + i });
      continue;
    }
    const three = code.slice(i, i + 3);
    const two = code.slice(i, i + 2);
    const text = PUNCT3.includes(three) ? three : PUNCT2.includes(two) ? two : c;
    i += text.length;
    out.push({ kind: 'punct', text, start: base + start, end: base + i });
  }
  return out;
}

export interface PreprocessorLine {
  /** Offsets of the whole directive including continuation lines. */
  start: number;
  end: number;
  /** The directive text with continuations joined by spaces (same length not guaranteed). */
  text: string;
}

/** The user's file: original text, comment-free code, tokens outside preprocessor lines, directives. */
export class SourceText {
  readonly text: string;
  readonly file: string;
  /** `text` with comments replaced by spaces (newlines kept): same offsets. */
  readonly code: string;
  readonly tokens: Token[];
  readonly directives: PreprocessorLine[];
  private readonly lineStarts: number[];

  constructor(text: string, file: string) {
    this.text = text;
    this.file = file;
    this.code = blankComments(text);
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    this.directives = [];
    const tokens: Token[] = [];
    // Split into preprocessor directives and ordinary code, line by line.
    let segStart = 0;
    let lineStart = 0;
    const code = this.code;
    while (lineStart <= code.length) {
      let lineEnd = code.indexOf('\n', lineStart);
      if (lineEnd < 0) lineEnd = code.length;
      let firstNonSpace = -1;
      for (let k = lineStart; k < lineEnd; k++) {
        const ch = code.charCodeAt(k);
        if (ch !== 32 && ch !== 9 && ch !== 13) {
          firstNonSpace = k - lineStart;
          break;
        }
      }
      if (firstNonSpace >= 0 && code[lineStart + firstNonSpace] === '#') {
        for (const tok of tokenize(code.slice(segStart, lineStart), segStart)) tokens.push(tok);
        // a directive continues while a line ends with a backslash
        let end = lineEnd;
        while (end < code.length && /\\\s*$/.test(code.slice(code.lastIndexOf('\n', end - 1) + 1, end))) {
          const next = code.indexOf('\n', end + 1);
          end = next < 0 ? code.length : next;
        }
        const start = lineStart + firstNonSpace;
        this.directives.push({ start, end, text: code.slice(start, end).replace(/\\\s*\n/g, ' ') });
        segStart = end;
        lineStart = end + 1;
        continue;
      }
      if (lineEnd >= code.length) break;
      lineStart = lineEnd + 1;
    }
    for (const tok of tokenize(code.slice(segStart), segStart)) tokens.push(tok);
    this.tokens = tokens;
  }

  /** 1-based line and column of an offset. */
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }

  range(start: number, end: number): SourceRange {
    const a = this.position(start);
    const b = this.position(end);
    return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  }

  lineStartOf(offset: number): number {
    return this.lineStarts[this.position(offset).line - 1]!;
  }

  /** Offset just after the newline ending the line that holds `offset` (or text end). */
  lineEndOf(offset: number): number {
    const nl = this.text.indexOf('\n', offset);
    return nl < 0 ? this.text.length : nl + 1;
  }

  /** Leading whitespace of the line holding `offset`. */
  indentOf(offset: number): string {
    const start = this.lineStartOf(offset);
    return /^[ \t]*/.exec(this.text.slice(start))?.[0] ?? '';
  }
}

function blankComments(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  const n = text.length;
  const blank = (from: number, to: number): void => {
    parts.push(text.slice(copied, from), text.slice(from, to).replace(/[^\n]/g, ' '));
    copied = to;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 39) {
      i++;
      while (i < n && text.charCodeAt(i) !== c && text.charCodeAt(i) !== 10) {
        if (text.charCodeAt(i) === 92) i++;
        i++;
      }
      i++;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? n : nl;
      blank(i, end);
      i = end;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      blank(i, end);
      i = end;
      continue;
    }
    i++;
  }
  parts.push(text.slice(copied));
  return parts.join('');
}

/** Index of the token closing the bracket opened at `open` (or tokens.length). */
export function matchClose(tokens: readonly Token[], open: number): number {
  const o = tokens[open]?.text;
  const c = o === '(' ? ')' : o === '[' ? ']' : '}';
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!.text;
    if (t === o) depth++;
    else if (t === c) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return tokens.length;
}

/** Index of the token opening the bracket closed at `close` (or -1). */
export function matchOpen(tokens: readonly Token[], close: number): number {
  const c = tokens[close]?.text;
  const o = c === ')' ? '(' : c === ']' ? '[' : '{';
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    const t = tokens[i]!.text;
    if (t === c) depth++;
    else if (t === o) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * Splits tokens[from, to) at the `separator` tokens outside (), [] and {}: the ranges
 * between them, the last one (up to `to`) always included, even when empty.
 */
export function splitTopLevel(tokens: readonly Token[], from: number, to: number, separator: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const t = tokens[i]!.text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') depth--;
    else if (t === separator && depth === 0) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  out.push([start, to]);
  return out;
}

/** Splits tokens[from, to) at top-level commas (nested (), [], {} are kept whole); none for an empty range. */
export function splitArgs(tokens: readonly Token[], from: number, to: number): Array<[number, number]> {
  return to > from ? splitTopLevel(tokens, from, to, ',') : [];
}
