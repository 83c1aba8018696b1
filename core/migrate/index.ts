// Migrations from other ways of streaming events to BPF ring buffers, as edits
// (QuickFix, core/diagnostics.ts) so they plug in as quick fixes of the lint rules
// RB017 (perf event array), RB018 (bcc BPF_RINGBUF_OUTPUT) and RB009
// (bpf_ringbuf_output → reserve/submit). vscode-free; see docs/lint-rules.md.
import type { QuickFix, TextEdit } from '../diagnostics';
import { analyzeOutputCalls } from '../lint/outputRewrite';
import { DEFAULT_PAGE_SIZE } from '../lint/ringSize';
import { SourceModel } from '../lint/sourceModel';
import { bccRingbufMigrations } from './bccRingbuf';
import { perfBufferMigrations } from './perfToRingbuf';

export { migrationFindings } from './rules';

export type MigrationKind = 'perf-to-ringbuf' | 'output-to-reserve' | 'bcc-to-libbpf';

export interface Migration {
  kind: MigrationKind;
  /** What is migrated: the map name, or "line N" for an output call. */
  subject: string;
  /** 1-based line of the thing migrated. */
  line: number;
  /** Best first; empty when the shape is not one the migration can rewrite safely. */
  fixes: QuickFix[];
  reason?: string;
}

/** Every migration the file offers. */
export function findMigrations(text: string, file: string, opts: { pageSize?: number } = {}): Migration[] {
  const model = new SourceModel(text, file);
  const out: Migration[] = [];
  for (const m of perfBufferMigrations(model)) {
    out.push({ kind: 'perf-to-ringbuf', subject: m.map.name, line: model.src.range(m.map.nameStart, m.map.nameEnd).line, fixes: m.fixes, ...(m.reason ? { reason: m.reason } : {}) });
  }
  for (const f of analyzeOutputCalls(model)) {
    out.push({ kind: 'output-to-reserve', subject: `line ${f.line}`, line: f.line, fixes: f.fixes ?? [], ...(f.fixes?.length ? {} : { reason: 'not the simple struct-on-stack shape' }) });
  }
  for (const m of bccRingbufMigrations(model, opts.pageSize ?? DEFAULT_PAGE_SIZE)) {
    out.push({ kind: 'bcc-to-libbpf', subject: m.ring.name, line: model.src.range(m.ring.nameStart, m.ring.nameEnd).line, fixes: m.fixes, ...(m.reason ? { reason: m.reason } : {}) });
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Applies a fix's edits to the text they were computed on (positions refer to the original, as in an editor). */
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
