// Concrete TextEdits shared by both layers: ring size rewrites that keep the
// author's style, inserting max_entries, deleting a map field line.
import type { QuickFix, TextEdit } from '../diagnostics';
import type { MapDef, MapField, SourceModel } from './sourceModel';

export const DEFAULT_RING_SIZE_TEXT = '256 * 1024';

function edit(model: SourceModel, start: number, end: number, newText: string): TextEdit {
  return { file: model.src.file, range: model.src.range(start, end), newText };
}

/**
 * Writes `value` in the style of `oldText`: `3 * 4096` → `4 * 4096`, `1 << 13` → `1 << 14`,
 * `0x3000` → `0x4000`, `(1<<12)*3` → `(1<<12)*4`; anything else as a plain number.
 */
export function formatLike(oldText: string, value: number, model: SourceModel): string {
  const trimmed = oldText.trim();
  const wrapped = /^\((.*)\)$/s.exec(trimmed);
  if (wrapped && balanced(wrapped[1]!)) return `(${formatLike(wrapped[1]!, value, model)})`;
  const shift = /^1\s*<<\s*(\d+)$/.exec(trimmed);
  if (shift && Number.isInteger(Math.log2(value))) return trimmed.replace(/\d+$/, String(Math.log2(value)));
  const lead = /^(\d+)(\s*\*\s*)(.+)$/s.exec(trimmed);
  if (lead) {
    const unit = model.evaluate(lead[3]!);
    if (unit && value % unit === 0) return `${value / unit}${lead[2]}${lead[3]}`;
    const n = Number(lead[1]);
    if (n > 0 && value % n === 0 && value / n >= 1) return `${lead[1]}${lead[2]}${value / n}`;
  }
  const trail = /^(.+?)(\s*\*\s*)(\d+)$/s.exec(trimmed);
  if (trail) {
    const unit = model.evaluate(trail[1]!);
    if (unit && value % unit === 0) return `${trail[1]}${trail[2]}${value / unit}`;
    // `RB_PAGES * 4096`: keep the literal unit, replace the other factor
    const n = Number(trail[3]);
    if (n > 0 && value % n === 0) return `${value / n}${trail[2]}${trail[3]}`;
  }
  if (/^0[xX][0-9a-fA-F]+/.test(trimmed)) return `0x${value.toString(16)}`;
  return String(value);
}

function balanced(s: string): boolean {
  let d = 0;
  for (const c of s) {
    if (c === '(') d++;
    else if (c === ')' && --d < 0) return false;
  }
  return d === 0;
}

/**
 * The edit that makes a map's max_entries `value`: rewrites the expression in place,
 * or — when the expression is a macro of this file — the macro's body.
 */
export function setRingSizeEdit(model: SourceModel, field: MapField, value: number): { edit: TextEdit; where: string } {
  let text = field.valueText.trim();
  let start = field.valueStart;
  let end = field.valueEnd;
  let where = 'max_entries';
  // follow a chain of object-like macros defined in this file (RB_SZ → RB_PAGES * 4096)
  for (let hops = 0; hops < 8 && /^[A-Za-z_]\w*$/.test(text); hops++) {
    const m = model.macros.get(text);
    if (!m || m.functionLike || m.bodyEnd <= m.bodyStart) break;
    where = m.name;
    text = m.body;
    start = m.bodyStart;
    end = m.bodyEnd;
  }
  return { edit: edit(model, start, end, formatLike(text, value, model)), where };
}

export function ringSizeFix(model: SourceModel, field: MapField, value: number, title?: string): QuickFix {
  const { edit: e, where } = setRingSizeEdit(model, field, value);
  return { title: title ?? `Change ${where} to ${e.newText} (${value} bytes)`, edits: [e], preferred: true };
}

/** Inserts `__uint(max_entries, 256 * 1024);` after the map's type field (or at the body start). */
export function insertMaxEntriesFix(model: SourceModel, map: MapDef): QuickFix {
  const text = model.src.text;
  const typeField = map.fields.find((f) => f.name === 'type');
  const stmt = `__uint(max_entries, ${DEFAULT_RING_SIZE_TEXT});`;
  let e: TextEdit;
  if (typeField) {
    const lineEnd = model.src.lineEndOf(typeField.stmtEnd);
    const rest = text.slice(typeField.stmtEnd, lineEnd);
    if (/^\s*$/.test(rest) && lineEnd > typeField.stmtEnd) {
      const indent = model.src.indentOf(typeField.stmtStart);
      e = edit(model, lineEnd, lineEnd, `${indent}${stmt}\n`);
      if (!text.slice(typeField.stmtEnd, lineEnd).endsWith('\n')) e = edit(model, lineEnd, lineEnd, `\n${indent}${stmt}`);
    } else {
      e = edit(model, typeField.stmtEnd, typeField.stmtEnd, ` ${stmt}`);
    }
  } else {
    e = edit(model, map.bodyOpen + 1, map.bodyOpen + 1, ` ${stmt}`);
  }
  return { title: `Add ${stmt} (256 KiB)`, edits: [e], preferred: true };
}

/** Deletes a map field statement; the whole line when it stands alone. */
export function deleteFieldFix(model: SourceModel, field: MapField, title: string): QuickFix {
  const text = model.src.text;
  const lineStart = model.src.lineStartOf(field.stmtStart);
  const lineEnd = model.src.lineEndOf(field.stmtEnd);
  const before = text.slice(lineStart, field.stmtStart);
  const after = text.slice(field.stmtEnd, lineEnd);
  let start = field.stmtStart;
  let end = field.stmtEnd;
  if (/^\s*$/.test(before) && /^\s*$/.test(after)) {
    start = lineStart;
    end = lineEnd;
  } else {
    const trailing = /^[ \t]*/.exec(after)?.[0].length ?? 0;
    end = field.stmtEnd + trailing;
  }
  return { title, edits: [edit(model, start, end, '')], preferred: true };
}

export function replaceFix(model: SourceModel, start: number, end: number, newText: string, title: string, preferred = true): QuickFix {
  return { title, edits: [edit(model, start, end, newText)], preferred };
}
