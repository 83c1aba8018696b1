// Positions in the user's source: the file a log line names, a line's first column, a
// program's SEC("…") line, a map's definition, a line found by its text (kernels whose
// verifier annotations carry no line number).
import fs from 'node:fs';
import path from 'node:path';

/** The user's program source, for positions (file path as the user knows it, and its text). */
export interface SourceContext {
  file: string;
  text?: string;
}

/** Reads the source text when not given (for columns and SEC lookups); undefined when unreadable. */
export function sourceText(src: SourceContext): string | undefined {
  if (src.text !== undefined) return src.text;
  try {
    return fs.readFileSync(src.file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A file a log or line info names, when it is the user's file or an existing file inside the
 * user's folder (a local header); undefined otherwise. Log text comes from the target: a
 * name outside the folder stays a name and is never read.
 */
export function containedLogFile(name: string, src: SourceContext): string | undefined {
  if (path.basename(name) === path.basename(src.file)) return src.file;
  const dir = path.dirname(path.resolve(src.file));
  const near = path.resolve(dir, name);
  const rel = path.relative(dir, near);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return fs.existsSync(near) ? near : undefined;
}

/** The path a log's file name refers to: the user's file or a header next to it, else the name as printed. */
export function resolveLogFile(name: string, src: SourceContext): string {
  return containedLogFile(name, src) ?? name;
}

/** 1-based column of the first non-blank character of a line (1 when unknown). */
function columnsOf(l: string | undefined): { column: number; endColumn: number } {
  if (l === undefined) return { column: 1, endColumn: 1 };
  const trimmedEnd = l.replace(/\s+$/, '');
  const start = trimmedEnd.length - trimmedEnd.trimStart().length;
  return { column: start + 1, endColumn: Math.max(start + 1, trimmedEnd.length + 1) };
}

/** `SEC("section")` of a program in the source → its position. */
export function findSectionLine(text: string | undefined, section: string): { line: number; column: number; endColumn: number } | undefined {
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const quoted = JSON.stringify(section);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] ?? '';
    const at = l.search(/\bSEC\s*\(/);
    if (at < 0) continue;
    const m = /\bSEC\s*\(\s*("(?:[^"\\]|\\.)*")\s*\)/.exec(l);
    if (m && m[1] === quoted) return { line: i + 1, column: at + 1, endColumn: at + 1 + m[0].length };
  }
  return undefined;
}

/** The line defining a map (`} NAME SEC(".maps")`, or `BPF_RINGBUF_OUTPUT(NAME, …)`), for map errors. */
export function findMapLine(text: string | undefined, map: string): { line: number; column: number; endColumn: number } | undefined {
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const name = map.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const patterns = [
    new RegExp(`\\b(${name})\\s*(\\[[^\\]]*\\])?\\s+SEC\\s*\\(\\s*"\\.maps"`),
    new RegExp(`SEC\\s*\\(\\s*"maps"\\s*\\)\\s*(${name})\\b`),
    new RegExp(`BPF_RINGBUF_OUTPUT\\s*\\(\\s*(${name})\\s*,`),
  ];
  for (const re of patterns) {
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i] ?? '';
      const m = re.exec(l);
      if (m) {
        const col = l.indexOf(map, m.index) + 1;
        return { line: i + 1, column: col, endColumn: col + map.length };
      }
    }
  }
  return undefined;
}

/**
 * The 1-based line whose text is `sourceText` (verifier logs before `@ file:line` existed):
 * the first such line at or after `fromLine` (the program's SEC line), else the first anywhere.
 */
export function findSourceTextLine(text: string | undefined, sourceText: string, fromLine = 1): number | undefined {
  const want = sourceText.trim();
  if (!text || !want) return undefined;
  const hits: number[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() === want) hits.push(i + 1);
  });
  return hits.find((n) => n >= fromLine) ?? hits[0];
}

export interface LinePos {
  line: number;
  column: number;
  endColumn: number;
}

/** Where a diagnostic goes when nothing in the source matches. */
export const FIRST_LINE: LinePos = { line: 1, column: 1, endColumn: 1 };

/** A source position in a file (1-based line, first non-blank column, end of the line's text). */
export interface Located extends LinePos {
  file: string;
}

/** Instruction index → source line from the object's .BTF.ext line info, when known. */
export type LineInfoLookup = (insn: number) => { file: string; line: number } | undefined;

/** What a verifier log says about an instruction's source: `; text @ file:LINE`, or only `; text`. */
export interface AnnotatedSource {
  file: string;
  line: number;
  text: string;
}

/**
 * Places a program's instructions on the user's source: the log's `@ file:LINE` when it has
 * one, else the object's line info, else the annotation's text found in the source (first at
 * or after the program's SEC line). Files other than the user's (headers) are read once.
 */
export class SourceLocator {
  private readonly text: string | undefined;
  readonly programLine: LinePos | undefined;
  private readonly byText = new Map<string, number | undefined>();
  /** Per name as printed: the file it is, and its lines when readable. */
  private readonly files = new Map<string, { file: string; lines: string[] | undefined }>();

  constructor(
    readonly src: SourceContext,
    private readonly opts: { section?: string; lineInfo?: LineInfoLookup } = {},
  ) {
    this.text = sourceText(src);
    this.programLine = opts.section ? findSectionLine(this.text, opts.section) : undefined;
  }

  locate(ref: AnnotatedSource | undefined, insn?: number): Located | undefined {
    if (ref && ref.line > 0) return this.at(ref.file, ref.line);
    const info = insn !== undefined ? this.opts.lineInfo?.(insn) : undefined;
    if (info && info.line > 0) return this.at(info.file, info.line);
    const want = ref?.text.trim();
    if (!want) return undefined;
    if (!this.byText.has(want)) this.byText.set(want, findSourceTextLine(this.text, want, this.programLine?.line));
    const line = this.byText.get(want);
    return line ? this.at(this.src.file, line) : undefined;
  }

  private at(name: string, line: number): Located {
    let f = this.files.get(name);
    if (!f) {
      const file = containedLogFile(name, this.src);
      const text = file === this.src.file ? this.text : file ? sourceText({ file }) : undefined;
      f = { file: file ?? name, lines: text?.split('\n') };
      this.files.set(name, f);
    }
    return { file: f.file, line, ...columnsOf(f.lines?.[line - 1]) };
  }
}
