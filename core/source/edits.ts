// Text edits on a whole file, as an editor applies them: every position refers to the
// text the edits were computed on (1-based lines, 1-based UTF-16 columns, end exclusive).
import type { TextEdit } from '../diagnostics';

/** Applies a fix's edits to the text they were computed on. Throws a RangeError for a position past the end or overlapping edits. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const offset = (line: number, column: number): number => {
    const start = lineStarts[line - 1];
    if (start === undefined) throw new RangeError(`line ${line} is past the end of the text`);
    return start + column - 1;
  };
  const spans = edits
    .map((e) => ({ start: offset(e.range.line, e.range.column), end: offset(e.range.endLine, e.range.endColumn), newText: e.newText }))
    .sort((a, b) => b.start - a.start || b.end - a.end);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]!.end > spans[i - 1]!.start) throw new RangeError('overlapping edits');
  }
  let out = text;
  for (const s of spans) out = out.slice(0, s.start) + s.newText + out.slice(s.end);
  return out;
}

/** Sorts edits in place by their start, first in the file first (the order a fix lists them). */
export function sortEdits(edits: TextEdit[]): TextEdit[] {
  return edits.sort((a, b) => a.range.line - b.range.line || a.range.column - b.range.column);
}
