// Load and attach failures → Diagnostics on source lines.
//
// The verifier walks the program and, for objects built with `clang -g`, prints
// `; <source text> @ file.bpf.c:LINE` before the instructions of each new line.
// The instruction that failed is the last one printed before the error text, so
// the last annotation before the error names its source line. The message is the
// verifier's own words (the error lines); the full log stays in `detail`.
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic, RelatedInformation } from '../diagnostics';
import type { AttachError, HelperErrorInfo, LoadedProgram } from '../protocol/helper';

/** The user's program source, for positions (file path as the user knows it, and its text). */
export interface SourceContext {
  file: string;
  text?: string;
}

interface Annotation {
  /** Index of the log line. */
  index: number;
  file: string;
  line: number;
  sourceText: string;
}

const ANNOTATION = /^; (.*) @ (.+):(\d+)$/;
// Older kernels (Debian 12's 6.1) print only `; <source text>`: its line is found in the source.
const BARE_ANNOTATION = /^; (.*\S.*)$/;
// `12: (85) call bpf_ringbuf_reserve#131 ...` — an instruction.
const INSTRUCTION = /^\d+: \([0-9a-f]{2}\)/;
// `12: R0=... R1=...` or `from 11 to 15: R0=...` — register state, not an error.
const STATE = /^(\d+: R\d|\d+: frame\d|from \d+ to \d+:)/;
const TRAILER = /^(processed \d+ insns|verification time|stack depth|mark_read|peak_states|max_states_per_insn|-- END PROG LOAD LOG --|sleepable)/;
const NOISE = /^(arg#\d+ reference type|func#\d+ @\d+|Validating |Func#\d+ |\s*$|-- BEGIN PROG LOAD LOG --|libbpf: )/;

export interface VerifierFailure {
  /** The verifier's own words: the error line(s), e.g. "R6 invalid mem access 'ringbuf_mem_or_null'". */
  summary: string;
  /** Where the failing instruction came from (absent when the object has no line info, or the
   * kernel printed only the source text: then `sourceText` alone, see findSourceTextLine). */
  file?: string;
  line?: number;
  /** The source text the annotation quoted. */
  sourceText?: string;
  /** For an unreleased reference: where it was acquired (file '' and line 0 when the log names only the text). */
  acquiredAt?: { file: string; line: number; sourceText: string };
}

/** Finds the error text and the source line of the failing instruction in a verifier log. */
export function analyzeVerifierLog(log: string): VerifierFailure {
  const lines = log.split('\n').map((l) => l.replace(/\r$/, ''));
  let end = lines.length;
  // The error sits just before the trailer ("processed N insns …").
  for (let i = lines.length - 1; i >= 0; i--) {
    if (TRAILER.test(lines[i] ?? '')) end = i;
    else if ((lines[i] ?? '').trim() !== '') break;
  }
  const errorLines: string[] = [];
  let firstError = end;
  for (let i = end - 1; i >= 0; i--) {
    const l = lines[i] ?? '';
    if (INSTRUCTION.test(l) || STATE.test(l) || ANNOTATION.test(l)) break;
    if (NOISE.test(l) || TRAILER.test(l)) {
      if (errorLines.length) break;
      continue;
    }
    errorLines.unshift(l.trim());
    firstError = i;
  }
  const annotations: Annotation[] = [];
  lines.forEach((l, index) => {
    const m = ANNOTATION.exec(l);
    if (m && Number(m[3]) > 0) annotations.push({ index, sourceText: (m[1] ?? '').trim(), file: m[2] ?? '', line: Number(m[3]) });
    const bare = m ? null : BARE_ANNOTATION.exec(l);
    if (bare) annotations.push({ index, sourceText: (bare[1] ?? '').trim(), file: '', line: 0 });
  });
  const at = [...annotations].reverse().find((a) => a.index < firstError);
  const summary = errorLines.join('\n') || lastMeaningfulLine(lines) || 'the verifier rejected the program';
  const out: VerifierFailure = { summary };
  if (at) {
    if (at.line > 0) {
      out.file = at.file;
      out.line = at.line;
    }
    out.sourceText = at.sourceText;
  }
  // "Unreleased reference id=3 alloc_insn=6": point at the line that acquired it too.
  const alloc = /alloc_insn=(\d+)/.exec(summary);
  if (alloc) {
    const insn = Number(alloc[1]);
    const insnLine = lines.findIndex((l) => l.startsWith(`${insn}: (`));
    const acq = insnLine >= 0 ? [...annotations].reverse().find((a) => a.index < insnLine) : undefined;
    if (acq) out.acquiredAt = { file: acq.file, line: acq.line, sourceText: acq.sourceText };
  }
  return out;
}

function lastMeaningfulLine(lines: string[]): string | undefined {
  return [...lines].reverse().find((l) => l.trim() !== '' && !TRAILER.test(l) && !NOISE.test(l))?.trim();
}

/** Reads the source text when not given (for columns and SEC lookups); undefined when unreadable. */
function sourceText(src: SourceContext): string | undefined {
  if (src.text !== undefined) return src.text;
  try {
    return fs.readFileSync(src.file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The path a log's file name refers to: the user's file when the base names match,
 * else the name resolved next to it (a header), else the name as printed.
 */
function resolveLogFile(name: string, src: SourceContext): string {
  if (path.basename(name) === path.basename(src.file)) return src.file;
  const near = path.resolve(path.dirname(src.file), name);
  return fs.existsSync(near) ? near : name;
}

/** 1-based column of the first non-blank character of a line (1 when unknown). */
function firstColumn(text: string | undefined, line: number): { column: number; endColumn: number } {
  const l = text?.split('\n')[line - 1];
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

interface LinePos {
  line: number;
  column: number;
  endColumn: number;
}

/** Where a diagnostic goes when nothing in the source matches. */
const FIRST_LINE: LinePos = { line: 1, column: 1, endColumn: 1 };

/** A Diagnostic's range within one line. */
function oneLine(pos: LinePos): Pick<Diagnostic, 'line' | 'column' | 'endLine' | 'endColumn'> {
  return { line: pos.line, column: pos.column, endLine: pos.line, endColumn: pos.endColumn };
}

/** A verifier rejection as one error Diagnostic on the failing line; the full log in `detail`. */
export function verifierDiagnostic(error: HelperErrorInfo, src: SourceContext, programSection?: string): Diagnostic {
  const log = error.log ?? '';
  const failure = analyzeVerifierLog(log);
  const text = sourceText(src);
  const message = failure.summary.split('\n').join('; ');
  let file = src.file;
  let pos = FIRST_LINE;
  const section = programSection ? findSectionLine(text, programSection) : undefined;
  const byText = !failure.line && failure.sourceText ? findSourceTextLine(text, failure.sourceText, section?.line) : undefined;
  if (failure.file && failure.line) {
    file = resolveLogFile(failure.file, src);
    // The log's file name comes from the helper: only the user's own file is read (for the column).
    pos = { line: failure.line, ...firstColumn(file === src.file ? text : undefined, failure.line) };
  } else if (byText) {
    pos = { line: byText, ...firstColumn(text, byText) };
  } else if (section) {
    pos = section;
  }
  const related: RelatedInformation[] = [];
  const acquired = failure.acquiredAt;
  const acquiredLine = acquired && (acquired.line || findSourceTextLine(text, acquired.sourceText, section?.line));
  if (acquired && acquiredLine) {
    const f = acquired.line ? resolveLogFile(acquired.file, src) : src.file;
    related.push({
      file: f,
      range: { line: acquiredLine, endLine: acquiredLine, ...firstColumn(f === src.file ? text : undefined, acquiredLine) },
      message: `the reference was acquired here: ${acquired.sourceText}`,
    });
  }
  return {
    file,
    ...oneLine(pos),
    severity: 'error',
    code: 'verifier',
    source: 'verifier',
    message,
    detail: log || error.message,
    ...(related.length ? { related } : {}),
  };
}

/** An attach failure on the program's SEC("…") line, with the helper's plain reason. */
export function attachDiagnostic(program: LoadedProgram & { error: AttachError }, src: SourceContext, severity: 'error' | 'warning' = 'error'): Diagnostic {
  const pos = findSectionLine(sourceText(src), program.section) ?? FIRST_LINE;
  return {
    file: src.file,
    ...oneLine(pos),
    severity,
    code: 'attach',
    source: 'attach',
    message: `cannot attach program '${program.name}' (${program.section}): ${program.error.reason}`,
    detail: `${program.error.message} (errno ${program.error.errno})`,
  };
}

/** Any other helper load error (map, object, override, load) as a Diagnostic. */
export function loadErrorDiagnostic(error: HelperErrorInfo, src: SourceContext, programs: ReadonlyArray<{ name: string; section: string }> = []): Diagnostic {
  if (error.code === 'verifier') {
    return verifierDiagnostic(error, src, programs.find((p) => p.name === error.program)?.section);
  }
  const text = sourceText(src);
  let pos: LinePos | undefined;
  if (error.map) pos = findMapLine(text, error.map);
  if (!pos && error.program) {
    const section = programs.find((p) => p.name === error.program)?.section;
    if (section) pos = findSectionLine(text, section);
  }
  pos ??= FIRST_LINE;
  return {
    file: src.file,
    ...oneLine(pos),
    severity: 'error',
    code: error.code === 'override' || error.code === 'map' ? error.code : 'loader',
    source: 'loader',
    message: error.hint ? `${error.message} (${error.hint})` : error.message,
    ...(error.log ? { detail: error.log } : {}),
  };
}

/** The relevant part of a verifier log for a terminal: the lines around the failure. */
export function verifierLogExcerpt(log: string, maxLines = 12): string {
  const lines = log.split('\n').filter((l) => l.trim() !== '' && !NOISE.test(l));
  let end = lines.length;
  while (end > 0 && TRAILER.test(lines[end - 1] ?? '')) end--;
  return lines.slice(Math.max(0, end - maxLines), end).join('\n');
}
