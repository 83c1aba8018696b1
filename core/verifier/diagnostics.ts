// Load and attach failures → Diagnostics on source lines.
//
// The verifier walks the program and, for objects built with `clang -g`, prints
// `; <source text> @ file.bpf.c:LINE` before the instructions of each new line.
// The structured log (./log.ts) names the failing instruction and the annotation that
// covers it, which gives its source line. The message is the verifier's own words (the
// error lines); the full log stays in `detail`.
import type { Diagnostic, RelatedInformation } from '../diagnostics';
import type { AttachError, HelperErrorInfo, LoadedProgram } from '../protocol/helper';
import { errorSummary, failingSource, parseVerifierLog, type ParsedVerifierLog } from './log';
import { FIRST_LINE, findMapLine, findSectionLine, SourceLocator, sourceText, type LinePos, type SourceContext } from './source';

export { findMapLine, findSectionLine, findSourceTextLine, type SourceContext } from './source';

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
export function analyzeVerifierLog(log: string | ParsedVerifierLog): VerifierFailure {
  const parsed = typeof log === 'string' ? parseVerifierLog(log) : log;
  const out: VerifierFailure = { summary: errorSummary(parsed) ?? parsed.unknownSample.at(-1)?.trim() ?? 'the verifier rejected the program' };
  const at = parsed.error ? failingSource(parsed) : undefined;
  if (at) {
    if (at.line > 0) {
      out.file = at.file;
      out.line = at.line;
    }
    if (at.text) out.sourceText = at.text;
  }
  // "Unreleased reference id=3 alloc_insn=6": point at the line that acquired it too.
  const acquired = parsed.error?.acquiredInsn !== undefined ? parsed.sources.get(parsed.error.acquiredInsn) : undefined;
  if (acquired) out.acquiredAt = { file: acquired.file, line: acquired.line, sourceText: acquired.text };
  return out;
}

/** A Diagnostic's range within one line. */
function oneLine(pos: LinePos): Pick<Diagnostic, 'line' | 'column' | 'endLine' | 'endColumn'> {
  return { line: pos.line, column: pos.column, endLine: pos.line, endColumn: pos.endColumn };
}

/** A verifier rejection as one error Diagnostic on the failing line; the full log in `detail`. */
export function verifierDiagnostic(error: HelperErrorInfo, src: SourceContext, programSection?: string, parsed?: ParsedVerifierLog): Diagnostic {
  const log = error.log ?? '';
  const structured = parsed ?? parseVerifierLog(log);
  const failure = analyzeVerifierLog(structured);
  const locator = new SourceLocator(src, programSection ? { section: programSection } : {});
  const at = locator.locate(failingSource(structured), structured.error?.insn) ?? (locator.programLine ? { file: src.file, ...locator.programLine } : { file: src.file, ...FIRST_LINE });
  const related: RelatedInformation[] = [];
  const acquiredInsn = structured.error?.acquiredInsn;
  const acquired = acquiredInsn !== undefined ? locator.locate(structured.sources.get(acquiredInsn), acquiredInsn) : undefined;
  if (acquired && failure.acquiredAt) {
    related.push({
      file: acquired.file,
      range: { line: acquired.line, endLine: acquired.line, column: acquired.column, endColumn: acquired.endColumn },
      message: `the reference was acquired here: ${failure.acquiredAt.sourceText}`,
    });
  }
  return {
    file: at.file,
    ...oneLine(at),
    severity: 'error',
    code: 'verifier',
    source: 'verifier',
    message: failure.summary.split('\n').join('; '),
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
