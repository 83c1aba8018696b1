// Parses clang's text diagnostics into the shared Diagnostic shape:
//   file:line:col[:{l:c-l:c}…]: severity: message [-Wflag]
//   fix-it:"file":{l:c-l:c}:"text"          (-fdiagnostics-parseable-fixits)
// Notes attach to the preceding diagnostic as `related`; a note's fix-its become
// an alternative QuickFix of that diagnostic (titled by the note). Clang counts
// columns in bytes; they are converted to UTF-16 columns (what editors use) when
// the source file can be read.
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic, QuickFix, Severity, SourceRange, TextEdit } from '../diagnostics';

export interface ParseClangOptions {
  /** File for diagnostics clang prints without a location (e.g. "error: unknown argument"). */
  defaultFile?: string;
  /** Reads a source file to convert byte columns and size token ranges; default: fs, cached per call. */
  readFile?: (file: string) => string | undefined;
}

const LOCATED = /^(.+?):(\d+):(\d+):((?:\{\d+:\d+-\d+:\d+\})*):? (fatal error|error|warning|note|remark): (.*)$/;
const UNLOCATED = /^(?:[\w./+-]*clang[\w.+-]*: )?(fatal error|error|warning): (.*)$/;
const FIXIT = /^fix-it:"((?:[^"\\]|\\.)*)":\{(\d+):(\d+)-(\d+):(\d+)\}:"((?:[^"\\]|\\.)*)"$/;
const RANGE = /\{(\d+):(\d+)-(\d+):(\d+)\}/g;
const FLAG = / \[([^\]]*)\]$/;

interface Pending {
  diag: Diagnostic;
  /** Fix-its printed directly after the diagnostic itself. */
  ownEdits: TextEdit[];
  /** Per note: its message and fix-its. */
  noteFixes: Array<{ message: string; edits: TextEdit[] }>;
}

export function parseClangDiagnostics(stderr: string, cwd: string, opts: ParseClangOptions = {}): Diagnostic[] {
  const parser = new ClangOutput(cwd, opts);
  // The line after a located diagnostic is its source snippet (fix-its need carets on):
  // never read it as an unlocated diagnostic (a C label "error: …" would look like one).
  let snippetNext = false;
  for (const raw of stderr.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const isSnippet = snippetNext;
    snippetNext = false;
    const fix = FIXIT.exec(line);
    if (fix) {
      parser.fixIt(fix);
      continue;
    }
    const m = LOCATED.exec(line);
    if (m) {
      parser.located(m);
      snippetNext = true;
      continue;
    }
    const u = UNLOCATED.exec(line);
    if (u && !isSnippet) parser.unlocated(u);
    // Anything else (source snippets, carets, "In file included from", "N errors generated.") is context.
  }
  return parser.finish();
}

/** The diagnostics read so far, the one being read (with its notes and fix-its), and the source files for columns. */
class ClangOutput {
  private readonly out: Diagnostic[] = [];
  private current: Pending | undefined;
  /** Where the next fix-it line goes: the diagnostic's own fixes or its last note's. */
  private lastTarget: { edits: TextEdit[] } | undefined;
  private readonly sources = new Map<string, string[] | undefined>();

  constructor(
    private readonly cwd: string,
    private readonly opts: ParseClangOptions,
  ) {}

  readonly linesOf = (file: string): string[] | undefined => {
    if (!this.sources.has(file)) {
      let text: string | undefined;
      try {
        text = this.opts.readFile ? this.opts.readFile(file) : fs.readFileSync(file, 'utf8');
      } catch {
        text = undefined; // a file clang names that we cannot read (gone, generated): clang's byte columns and a one-character range stay
      }
      this.sources.set(file, text === undefined ? undefined : text.split(/\r?\n/));
    }
    return this.sources.get(file);
  };

  readonly toColumn = (file: string, line: number, byteCol: number): number => {
    const text = this.linesOf(file)?.[line - 1];
    return text === undefined ? byteCol : utf16Column(text, byteCol);
  };

  fixIt(fix: RegExpExecArray): void {
    if (!this.lastTarget) return;
    const file = path.resolve(this.cwd, unescapeClang(fix[1] ?? ''));
    const l1 = Number(fix[2]);
    const l2 = Number(fix[4]);
    this.lastTarget.edits.push({
      file,
      range: { line: l1, column: this.toColumn(file, l1, Number(fix[3])), endLine: l2, endColumn: this.toColumn(file, l2, Number(fix[5])) },
      newText: unescapeClang(fix[6] ?? ''),
    });
  }

  located(m: RegExpExecArray): void {
    const file = path.resolve(this.cwd, m[1] ?? '');
    const kind = m[5] ?? 'error';
    const { message, flag } = splitFlag(m[6] ?? '');
    const range = rangeOf(file, Number(m[2]), Number(m[3]), m[4] ?? '', this.toColumn, this.linesOf);
    if (kind === 'note' && this.current) {
      (this.current.diag.related ??= []).push({ file, range, message });
      const note = { message, edits: [] as TextEdit[] };
      this.current.noteFixes.push(note);
      this.lastTarget = note;
      return;
    }
    // (A note with nothing before it is kept as information rather than lost.)
    this.start({ file, ...range, severity: severityOf(kind), code: flag ?? (kind === 'note' ? 'clang-note' : 'clang'), message, source: 'clang' });
  }

  unlocated(u: RegExpExecArray): void {
    const { message, flag } = splitFlag(u[2] ?? '');
    this.start({
      file: this.opts.defaultFile ? path.resolve(this.cwd, this.opts.defaultFile) : '',
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 1,
      severity: severityOf(u[1] ?? 'error'),
      code: flag ?? 'clang',
      message,
      source: 'clang',
    });
  }

  finish(): Diagnostic[] {
    this.flush();
    return this.out;
  }

  private start(diag: Diagnostic): void {
    this.flush();
    this.current = { diag, ownEdits: [], noteFixes: [] };
    this.lastTarget = { edits: this.current.ownEdits };
  }

  private flush(): void {
    const current = this.current;
    if (!current) return;
    const fixes: QuickFix[] = [];
    if (current.ownEdits.length) {
      fixes.push({ title: fixTitle(current.ownEdits, current.diag.message), edits: current.ownEdits, preferred: true });
    }
    for (const n of current.noteFixes) {
      if (n.edits.length) fixes.push({ title: capitalize(n.message), edits: n.edits });
    }
    if (fixes.length) current.diag.fixes = fixes;
    this.out.push(current.diag);
    this.current = undefined;
  }
}

function severityOf(kind: string): Severity {
  switch (kind) {
    case 'warning':
      return 'warning';
    case 'note':
    case 'remark':
      return 'information';
    default:
      return 'error';
  }
}

/** "… [-Wparentheses]" → code "-Wparentheses"; "[-Werror,-Wunused-variable]" → "-Wunused-variable". */
function splitFlag(message: string): { message: string; flag: string | undefined } {
  const m = FLAG.exec(message);
  if (!m) return { message, flag: undefined };
  const flags = (m[1] ?? '').split(',').map((f) => f.trim());
  const flag = [...flags].reverse().find((f) => f.startsWith('-W') && f !== '-Werror');
  if (!flag) return { message, flag: undefined };
  return { message: message.slice(0, m.index), flag };
}

function rangeOf(
  file: string,
  line: number,
  byteCol: number,
  rangeText: string,
  toColumn: (file: string, line: number, byteCol: number) => number,
  linesOf: (file: string) => string[] | undefined,
): SourceRange {
  const column = toColumn(file, line, byteCol);
  // -fdiagnostics-print-source-range-info: end columns are already exclusive.
  for (const r of rangeText.matchAll(RANGE)) {
    const [l1, c1, l2, c2] = [Number(r[1]), Number(r[2]), Number(r[3]), Number(r[4])];
    const startsBefore = l1 < line || (l1 === line && c1 <= byteCol);
    const endsAfter = l2 > line || (l2 === line && c2 > byteCol);
    if (startsBefore && endsAfter) return { line, column, endLine: l2, endColumn: toColumn(file, l2, c2) };
  }
  // No range containing the caret: underline the token under it.
  const text = linesOf(file)?.[line - 1];
  const tokenEnd = text === undefined ? column + 1 : column + tokenLength(text, column - 1);
  return { line, column, endLine: line, endColumn: tokenEnd };
}

function tokenLength(text: string, index: number): number {
  const rest = text.slice(index);
  const m = /^(?:[A-Za-z_]\w*|0x[0-9a-fA-F]+|\d+|"(?:[^"\\]|\\.)*"|->|<<=?|>>=?|[-+*/%&|^!=<>]=|&&|\|\||\+\+|--|\S)/.exec(rest);
  return m ? m[0].length : 1;
}

/** Clang columns count bytes (UTF-8); editors count UTF-16 code units. */
export function utf16Column(lineText: string, byteCol: number): number {
  if (isAscii(lineText)) return byteCol;
  let bytes = 0;
  let units = 0;
  for (const ch of lineText) {
    if (bytes >= byteCol - 1) break;
    bytes += Buffer.byteLength(ch, 'utf8');
    units += ch.length;
  }
  return units + 1 + Math.max(0, byteCol - 1 - bytes);
}

/** Undoes llvm::raw_ostream::write_escaped: \\ \" \n \t and \ooo octal. */
export function unescapeClang(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] ?? 0;
    if (b !== 0x5c || i + 1 >= raw.length) {
      bytes.push(b);
      continue;
    }
    const n = raw[i + 1] ?? 0;
    if (n === 0x6e) bytes.push(0x0a);
    else if (n === 0x74) bytes.push(0x09);
    else if (n >= 0x30 && n <= 0x37 && i + 3 < raw.length) {
      const oct = raw.subarray(i + 1, i + 4).toString('latin1');
      if (/^[0-7]{3}$/.test(oct)) {
        bytes.push(parseInt(oct, 8));
        i += 3;
        continue;
      }
      bytes.push(n);
    } else bytes.push(n);
    i++;
  }
  return Buffer.from(bytes).toString('utf8');
}

function fixTitle(edits: TextEdit[], message: string): string {
  if (edits.length === 1) {
    const e = edits[0];
    if (e) {
      const empty = e.range.line === e.range.endLine && e.range.column === e.range.endColumn;
      if (empty && e.newText) return `Insert '${e.newText}'`;
      if (!e.newText) return 'Remove the offending text';
      return `Replace with '${e.newText}'`;
    }
  }
  return `Fix: ${message}`;
}

function capitalize(s: string): string {
  return s ? s[0]?.toUpperCase() + s.slice(1) : s;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
