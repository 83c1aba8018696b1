// Migration (b): bpf_ringbuf_output() of a record built on the stack → reserve → NULL
// check → fill in place → submit. Offered only for the simple, provably equivalent shape:
//   struct X v = {};  …only v.field / &v / sizeof(v) uses, no return/break/goto…
//   bpf_ringbuf_output(&rb, &v, sizeof(v), FLAGS);   (same block, v unused afterwards)
// Lint reports every such call as RB009 with this rewrite as its fix; the perf event
// array migration (perfToRingbuf.ts) reuses the rewrite for bpf_perf_event_output().
import type { QuickFix, TextEdit } from '../diagnostics';
import { sortEdits } from '../source/edits';
import type { CallSite, FunctionDef, SourceModel } from '../source/sourceModel';
import { matchClose, matchOpen } from '../source/text';

export interface OutputMigration {
  fn: FunctionDef;
  /** The bpf_ringbuf_output() call. */
  call: CallSite;
  /** The rewrite, or empty when the function is not the simple struct-on-stack shape. */
  fixes: QuickFix[];
}

/** Every bpf_ringbuf_output() call on a ring buffer (or on a map this file does not define). */
export function ringbufOutputMigrations(model: SourceModel): OutputMigration[] {
  const out: OutputMigration[] = [];
  for (const fn of model.functions) {
    for (const call of fn.calls) {
      if (call.name !== 'bpf_ringbuf_output') continue;
      const mapName = model.mapArg(call.args[0]);
      const map = mapName ? model.findMap(mapName) : undefined;
      if (map && map.kind !== 'ringbuf') continue;
      const [, dataArg, sizeArg, flagsArg] = call.args;
      const flagsText = flagsArg && call.args.length === 4 ? model.textOf(flagsArg[0], flagsArg[1]).replace(/\s+/g, ' ').trim() : undefined;
      const rewrite = mapName && flagsText ? rewriteToReserve(model, fn, call, { mapName, dataArg, sizeArg, submitFlags: flagsText }) : undefined;
      const fixes: QuickFix[] = rewrite ? [{ title: `Rewrite to bpf_ringbuf_reserve() → fill → bpf_ringbuf_submit()`, edits: rewrite, preferred: false }] : [];
      out.push({ fn, call, fixes });
    }
  }
  return out;
}

export interface StackRecordOutput {
  /** The ring the record goes to. */
  mapName: string;
  /** Token ranges of the `&v` and `sizeof(v)` arguments of the output call. */
  dataArg: [number, number] | undefined;
  sizeArg: [number, number] | undefined;
  /** Flags text for bpf_ringbuf_submit (the output call's flags, or '0'). */
  submitFlags: string;
}

/**
 * Rewrites `struct X v = {}; …v.f…; OUTPUT_CALL(…&v, sizeof(v)…);` into reserve → NULL
 * check → fill in place → submit, or undefined when the shape is not the simple one.
 * OUTPUT_CALL is bpf_ringbuf_output (RB009) or bpf_perf_event_output (core/migrate).
 */
export function rewriteToReserve(model: SourceModel, fn: FunctionDef, call: CallSite, out: StackRecordOutput): TextEdit[] | undefined {
  const t = model.tokens;
  const text = (a: [number, number] | undefined): string => (a ? model.textOf(a[0], a[1]).replace(/\s+/g, ' ').trim() : '');
  const { mapName, dataArg, sizeArg } = out;
  const data = /^&\s*([A-Za-z_]\w*)$/.exec(text(dataArg));
  if (!data) return undefined;
  const v = data[1]!;
  const local = fn.locals.get(v);
  if (!local || local.pointer) return undefined;
  const size = text(sizeArg).replace(/\s+/g, '');
  if (size !== `sizeof(${v})` && size !== `sizeof(${local.typeText.replace(/\s+/g, '')})` && size !== `sizeof${v}`) return undefined;
  // the declaration: `struct X v;` `struct X v = {};` `struct X v = {0};`
  const d = local.declIndex;
  const typeStart = /^(struct|union)\s/.test(local.typeText) ? d - 2 : d - 1;
  if (!isStatementStart(t[typeStart - 1]?.text)) return undefined;
  let declEnd = d + 1; // index of ';'
  let zeroInit = false;
  if (t[declEnd]?.text === '=') {
    if (t[declEnd + 1]?.text !== '{') return undefined;
    const close = matchClose(t, declEnd + 1);
    const inner = close - (declEnd + 2);
    if (!(inner === 0 || (inner === 1 && t[declEnd + 2]!.text === '0'))) return undefined;
    zeroInit = true;
    declEnd = close + 1;
  }
  if (t[declEnd]?.text !== ';') return undefined;
  // the output call as a statement of its own, in the same block as the declaration
  if (!isStatementStart(t[call.nameIndex - 1]?.text) || t[call.closeIndex + 1]?.text !== ';') return undefined;
  if (enclosingBlock(model, typeStart) !== enclosingBlock(model, call.nameIndex)) return undefined;
  const edits: TextEdit[] = [];
  const edit = (start: number, end: number, newText: string): void => {
    edits.push({ file: model.src.file, range: model.src.range(start, end), newText });
  };
  for (let i = declEnd + 1; i < call.nameIndex; i++) {
    const x = t[i]!;
    if (['return', 'break', 'continue', 'goto'].includes(x.text)) return undefined;
    if (x.text !== v || x.kind !== 'ident' || t[i - 1]?.text === '.' || t[i - 1]?.text === '->') continue;
    if (t[i + 1]?.text === '.') {
      edit(t[i + 1]!.start, t[i + 1]!.end, '->');
    } else if (t[i - 1]?.text === '&') {
      edit(t[i - 1]!.start, x.start, '');
    } else if (t[i - 1]?.text === '(' && t[i - 2]?.text === 'sizeof' && t[i + 1]?.text === ')') {
      edit(x.start, x.end, `*${v}`);
    } else {
      return undefined;
    }
  }
  for (let i = call.closeIndex + 1; i < fn.bodyClose; i++) {
    if (t[i]!.text === v && t[i - 1]?.text !== '.' && t[i - 1]?.text !== '->') return undefined;
  }
  const indent = model.src.indentOf(t[typeStart]!.start);
  const step = indent.includes('\t') || indent === '' ? '\t' : indent.length % 4 === 0 ? '    ' : '  ';
  const ret = fn.returnsVoid ? 'return;' : 'return 0;';
  const lines = [
    `${local.typeText} *${v} = bpf_ringbuf_reserve(&${mapName}, sizeof(*${v}), 0);`,
    `${indent}if (!${v})`,
    `${indent}${step}${ret}`,
  ];
  if (zeroInit) lines.push(`${indent}__builtin_memset(${v}, 0, sizeof(*${v}));`);
  edit(t[typeStart]!.start, t[declEnd]!.end, lines.join('\n'));
  edit(call.start, call.end, `bpf_ringbuf_submit(${v}, ${out.submitFlags})`);
  return sortEdits(edits);
}

function isStatementStart(prev: string | undefined): boolean {
  return prev === ';' || prev === '{' || prev === '}';
}

/** Token index of the innermost `{` enclosing token i. */
function enclosingBlock(model: SourceModel, i: number): number {
  const t = model.tokens;
  let depth = 0;
  for (let k = i - 1; k >= 0; k--) {
    const x = t[k]!.text;
    if (x === '}') {
      k = matchOpen(t, k);
      if (k < 0) return -1;
      continue;
    }
    if (x === '{') {
      if (depth === 0) return k;
      depth--;
    }
  }
  return -1;
}
