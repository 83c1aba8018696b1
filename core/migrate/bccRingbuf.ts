// Migration (c): bcc's ring buffer macros → libbpf.
//   BPF_RINGBUF_OUTPUT(events, 8);
//     → struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 8 * 4096); } events SEC(".maps");
//   events.ringbuf_output(&d, sizeof(d), 0)   → bpf_ringbuf_output(&events, &d, sizeof(d), 0)
//   events.ringbuf_reserve(sizeof(*d))        → bpf_ringbuf_reserve(&events, sizeof(*d), 0)
//   events.ringbuf_submit(d, 0) / _discard    → bpf_ringbuf_submit(d, 0) / bpf_ringbuf_discard(d, 0)
//   events.ringbuf_query(BPF_RB_AVAIL_DATA)   → bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA)
// and `#include <bpf/bpf_helpers.h>` (for __uint and SEC) when the file has none.
// bcc sizes the ring as page_cnt × the page size; the definition spells that out
// with the target's page size (rounded up to a power of two, which the kernel needs).
import type { QuickFix, TextEdit } from '../diagnostics';
import { sortEdits } from '../source/edits';
import type { BccRingbuf, SourceModel } from '../source/sourceModel';
import { matchClose } from '../source/text';
import { isPowerOfTwo, nextPowerOfTwo } from '../util/pages';

export interface BccMigration {
  ring: BccRingbuf;
  /** Method calls rewritten, e.g. ["ringbuf_reserve", "ringbuf_submit"]. */
  methods: string[];
  fixes: QuickFix[];
  reason?: string;
}

const WITH_MAP = new Set(['ringbuf_output', 'ringbuf_query', 'ringbuf_reserve']);
const WITHOUT_MAP = new Set(['ringbuf_submit', 'ringbuf_discard']);

export function bccRingbufMigrations(model: SourceModel, pageSize: number): BccMigration[] {
  const text = model.src.text;
  const file = model.src.file;
  const perRing = model.bccRingbufs.map((ring) => ringEdits(model, ring, pageSize));
  // One fix converts every bcc ring of the file: half a migration would not compile.
  const blocked = perRing.find((r) => r.reason !== undefined);
  const edits: TextEdit[] = perRing.flatMap((r) => r.edits);
  const hasHelpersInclude = /^[ \t]*#[ \t]*include[ \t]*[<"]bpf\/bpf_helpers\.h[>"]/m.test(text);
  if (!hasHelpersInclude && edits.length) {
    const includes = [...text.matchAll(/^[ \t]*#[ \t]*include[^\n]*\n/gm)];
    const last = includes[includes.length - 1];
    const at = last ? last.index + last[0].length : 0;
    const range = model.src.range(at, at);
    // An edit starting at the same place takes the include in front (editors refuse touching edits).
    const same = edits.find((e) => e.range.line === range.line && e.range.column === range.column);
    if (same) same.newText = `#include <bpf/bpf_helpers.h>\n${same.newText}`;
    else edits.push({ file, range, newText: '#include <bpf/bpf_helpers.h>\n' });
  }
  const methods = perRing.reduce((n, r) => n + r.methods.length, 0);
  return perRing.map((r) => {
    const m: BccMigration = { ring: r.ring, methods: r.methods, fixes: [] };
    if (blocked) {
      m.reason = blocked.reason!;
      return m;
    }
    const rings = perRing.length > 1 ? `${perRing.length} BPF_RINGBUF_OUTPUT rings` : `BPF_RINGBUF_OUTPUT(${r.ring.name}, …)`;
    const calls = methods ? ` and ${methods} .ringbuf_*() call${methods > 1 ? 's' : ''}` : '';
    m.fixes.push({ title: `Convert ${rings}${calls} to libbpf (ring buffer map definition${perRing.length > 1 ? 's' : ''} and bpf_ringbuf_*() helpers)`, edits: sortEdits([...edits]), preferred: true });
    return m;
  });
}

interface RingEdits {
  ring: BccRingbuf;
  edits: TextEdit[];
  methods: string[];
  reason?: string;
}

function ringEdits(model: SourceModel, ring: BccRingbuf, pageSize: number): RingEdits {
  const t = model.tokens;
  const file = model.src.file;
  const r: RingEdits = { ring, edits: [], methods: [] };
  const macroAt = t.findIndex((x, i) => x.text === 'BPF_RINGBUF_OUTPUT' && t[i + 2]?.start === ring.nameStart);
  const close = macroAt < 0 ? -1 : matchClose(t, macroAt + 1);
  const endTok = t[close + 1]?.text === ';' ? t[close + 1] : t[close];
  if (macroAt < 0 || !endTok) {
    r.reason = `BPF_RINGBUF_OUTPUT(${ring.name}, …) could not be followed`;
    return r;
  }
  const pages = model.evaluate(ring.pageCntText);
  if (pages === undefined && !/^[A-Za-z_]\w*$/.test(ring.pageCntText.trim())) {
    r.reason = `the page count ${ring.pageCntText} is not a constant this file defines`;
    return r;
  }
  const pageText = pages === undefined ? ring.pageCntText.trim() : String(isPowerOfTwo(pages) ? pages : Math.max(1, nextPowerOfTwo(pages)));
  r.edits.push({
    file,
    range: model.src.range(t[macroAt]!.start, endTok.end),
    newText: [
      'struct {',
      '\t__uint(type, BPF_MAP_TYPE_RINGBUF);',
      `\t__uint(max_entries, ${pageText} * ${pageSize}); /* bcc: page_cnt pages */`,
      `} ${ring.name} SEC(".maps");`,
    ].join('\n'),
  });
  for (let i = 0; i + 3 < t.length; i++) {
    if (t[i]!.text !== ring.name || t[i + 1]?.text !== '.' || t[i + 3]?.text !== '(') continue;
    const method = t[i + 2]!.text;
    if (!WITH_MAP.has(method) && !WITHOUT_MAP.has(method)) {
      if (method.startsWith('ringbuf_')) r.reason = `${ring.name}.${method}() has no libbpf equivalent this migration knows`;
      continue;
    }
    const argsClose = matchClose(t, i + 3);
    const empty = argsClose === i + 4;
    const helper = `bpf_${method}`;
    const head = WITH_MAP.has(method) ? `${helper}(&${ring.name}${empty ? '' : ', '}` : `${helper}(`;
    r.edits.push({ file, range: model.src.range(t[i]!.start, t[i + 3]!.end), newText: head });
    // bcc's ringbuf_reserve(size) has no flags argument; libbpf's takes flags 0.
    if (method === 'ringbuf_reserve') r.edits.push({ file, range: model.src.range(t[argsClose]!.start, t[argsClose]!.start), newText: ', 0' });
    r.methods.push(method);
  }
  return r;
}
