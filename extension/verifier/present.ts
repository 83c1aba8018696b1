// What the Verifier explorer shows, as plain text and Markdown (no VS Code API here, so it
// is unit-tested without an editor): the hover of a line on the failing path, the inline
// hint, tree labels, CodeLens titles with the change since the last build, heat levels.
import type { ProgramVerdict } from '../../core/run/verify';
import type { ExplainedError, PathLine, ShownStep } from '../../core/verifier/explain';

/** Log text comes from the target: in Markdown it is only ever inside code spans, without backticks or line breaks. */
export function code(text: string, max = 160): string {
  const clean = text.replace(/[`\r\n]/g, ' ').trim();
  const cut = clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
  return `\`${cut || ' '}\``;
}

/** Plain words (explanations, summaries) with Markdown's special characters escaped. */
export function words(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
}

const HOVER_STEPS = 12;

function stepMarkdown(step: ShownStep, bold: boolean): string[] {
  const insn = `${step.insn}: ${step.text}`;
  const head = bold ? `**${code(insn)}**${step.failing ? ' ← the verifier stopped here' : ''}` : code(insn);
  const slots = step.slots.map((s) => {
    const line = `${code(`${s.name}${s.written ? ' ←' : ' ='} ${s.value}`, 200)} — ${words(s.summary)}`;
    return bold ? `- **${line}**` : `- ${line}`;
  });
  return [head, ...slots];
}

/**
 * The hover of a line on the failing path: each of its instructions with the registers and
 * stack slots it touched (values after it when it wrote them, before it otherwise); the
 * last instruction in bold. On the failing line, the reason and the usual fix come first.
 */
export function pathHoverMarkdown(line: PathLine, passes: number, where: string, error: ExplainedError | undefined): string {
  const out: string[] = [];
  const failingHere = error && line.steps.some((s) => s.failing);
  if (failingHere) {
    // The explanation and fix are our sentences (what they quote from the log is \w+ only): their `code` stays code.
    out.push(`**Verifier: ${words(error.category)}** — ${code(error.message, 240)}`, '', error.explanation, '', `**Fix:** ${error.fix}`, '', '---', '');
  }
  out.push(`**Failing path** on ${words(where)}${passes > 1 ? ` — pass ${line.pass} of ${passes} through this line` : ''}`, '');
  // An unrolled loop puts hundreds of instructions on one line: the last ones matter.
  const shown = line.steps.slice(-HOVER_STEPS);
  if (shown.length < line.steps.length) out.push(`_… ${line.steps.length - shown.length} earlier instructions on this line (the Verifier view lists them all)_`, '');
  shown.forEach((step, i) => {
    out.push(...stepMarkdown(step, i === shown.length - 1), '');
  });
  return out.join('\n');
}

/** The text after the failing line: category, the one-sentence reason, the fix. */
export function inlineHint(error: ExplainedError, max = 220): string {
  const text = `${error.category}: ${error.explanation} Fix: ${error.fix}`.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `1 234 567` (thin grouping; figures are read, not parsed). */
export function figure(n: number): string {
  return n.toLocaleString('en-US').replace(/,/g, '\u202f');
}

/** "+12 % instructions processed" against the figure of the previous build; undefined without one. */
export function changeSince(previous: number | undefined, now: number | null): string | undefined {
  if (previous === undefined || now === null || previous <= 0) return undefined;
  const pct = ((now - previous) / previous) * 100;
  if (Math.abs(pct) < 0.5) return 'unchanged since the last build';
  return `${pct > 0 ? '+' : '−'}${Math.abs(pct) >= 10 ? Math.round(Math.abs(pct)) : Math.abs(pct).toFixed(1)} % instructions processed`;
}

/** The CodeLens title of one program on one target. */
export function lensTitle(target: string, p: ProgramVerdict, previous: number | undefined, limit = 1_000_000): string {
  const where = target === 'local' ? 'local kernel' : target;
  if (!p.loaded) {
    const e = p.error;
    const figures = p.insnsProcessed !== null ? ` · ${figure(p.insnsProcessed)} instructions` : '';
    return `$(error) rejected on ${where}: ${e?.category ?? 'error'}${e ? ` at line ${e.at.line}` : ''}${figures}`;
  }
  if (p.insnsProcessed === null) return `$(pass) loads on ${where}`;
  const change = changeSince(previous, p.insnsProcessed);
  const share = Math.round((p.insnsProcessed / limit) * 100);
  return `$(pass) loads on ${where}: ${figure(p.insnsProcessed)} instructions processed (${share} % of the limit)${change ? `, ${change}` : ''} · ${figure(p.totalStates ?? 0)} states, peak ${figure(p.peakStates ?? 0)}`;
}

/**
 * The CodeLens offering a heat map for a program that loaded with its figures only (a Run, or
 * too costly for Verify's automatic level 2 pass): it says what the level 2 log will cost.
 */
export function heatMapLensTitle(p: ProgramVerdict, cheapUpTo: number): string | undefined {
  if (!p.loaded || p.insnsProcessed === null || p.explanation) return undefined;
  const cost = p.insnsProcessed > cheapUpTo ? `slow: a level 2 log of ${figure(p.insnsProcessed)} instructions` : 'a level 2 verification';
  return `$(flame) Heat map (${cost})`;
}

/**
 * The hover of a line in the heat map: how often the verifier processed its instructions, as
 * a share of what the log holds — every instruction processed (a complete level 2 log), the
 * last ones (a log that outgrew its buffer keeps its end), or the failing path (level 1).
 */
export function heatHoverMarkdown(visits: number, logged: number, scope: 'all' | 'tail' | 'path', processed: number | null): string {
  const share = `${((visits / Math.max(1, logged)) * 100).toFixed(1)} %`;
  const head = `Verifier visits to this line: **${figure(visits)}**`;
  if (scope === 'all') return `${head} (${share} of all instructions processed)`;
  if (scope === 'path') return `${head} (${share} of the ${figure(logged)} instructions on the failing path)`;
  const of = processed !== null && processed > logged ? ` — the verifier processed ${figure(processed)}; the log kept the last ones` : '';
  return `${head} (${share} of the ${figure(logged)} instructions in the log${of})`;
}

/** Heat level 1–5 of a line (log scale: the hottest lines of a loop stand out from the rest). */
export function heatLevel(visits: number, max: number): number {
  if (visits <= 0 || max <= 0) return 0;
  const ratio = Math.log1p(visits) / Math.log1p(max);
  return Math.max(1, Math.min(5, Math.ceil(ratio * 5)));
}

/** The tree label of a step: `21: *(u32 *)(r6 +0) = r2` and, as description, what it touched. */
export function stepLabel(step: ShownStep): { label: string; description: string } {
  return { label: `${step.insn}: ${step.text}`, description: step.slots.map((s) => `${s.name}=${s.value}`).join('  ') };
}
