// Migrations from other ways of streaming events to BPF ring buffers, as edits
// (QuickFix, core/diagnostics.ts). Lint offers them as the quick fixes of RB017 (perf
// event array), RB018 (bcc BPF_RINGBUF_OUTPUT) and RB009 (bpf_ringbuf_output →
// reserve/submit); this lists them for a whole file. vscode-free; see docs/lint-rules.md.
import type { QuickFix } from '../diagnostics';
import { SourceModel } from '../source/sourceModel';
import { DEFAULT_PAGE_SIZE } from '../util/pages';
import { bccRingbufMigrations } from './bccRingbuf';
import { ringbufOutputMigrations } from './outputToReserve';
import { perfBufferMigrations } from './perfToRingbuf';

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
  for (const m of ringbufOutputMigrations(model)) {
    const line = model.src.range(m.call.start, m.call.end).line;
    out.push({ kind: 'output-to-reserve', subject: `line ${line}`, line, fixes: m.fixes, ...(m.fixes.length ? {} : { reason: 'not the simple struct-on-stack shape' }) });
  }
  for (const m of bccRingbufMigrations(model, opts.pageSize ?? DEFAULT_PAGE_SIZE)) {
    out.push({ kind: 'bcc-to-libbpf', subject: m.ring.name, line: model.src.range(m.ring.nameStart, m.ring.nameEnd).line, fixes: m.fixes, ...(m.reason ? { reason: m.reason } : {}) });
  }
  return out.sort((a, b) => a.line - b.line);
}
