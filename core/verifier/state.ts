// Register and stack state as the verifier prints it, e.g.
//   R0=ringbuf_mem_or_null(id=3,ref_obj_id=3,sz=16) R6=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=mmmmmmmm refs=3
// Kernels differ: 5.10 prints `inv` for scalars and liveness marks (`R0_w=`), 6.1 `alloc_mem_or_null`,
// 6.2+ `scalar(...)` with ranges and `P` for precise values, 6.10+ drops the `_w`. The text is kept
// as printed (that is what users search for); `describeValue` adds plain words for the common types.

/** One register (`R0`…`R10`) or stack slot (`fp-8`) with its printed value. */
export interface SlotValue {
  name: string;
  value: string;
}

export interface PrintedState {
  /** Call frame (`frame1:` prefix), 0 when none is printed. */
  frame: number;
  slots: SlotValue[];
  /** Acquired references still held (`refs=3,5`), when printed. */
  refs?: string;
}

const MAX_STATE_TEXT = 16 * 1024;

/** Splits at spaces outside parentheses (values like `var_off=(0x0; 0xff)` contain spaces). */
function tokens(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) depth = Math.max(0, depth - 1);
    else if (c === 32 && depth === 0) {
      if (i > start) out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.length > start) out.push(text.slice(start));
  return out;
}

/** `R6_w` → `R6`, `fp-8_rw` → `fp-8`; undefined when the name is neither a register nor a stack slot. */
export function slotName(raw: string): string | undefined {
  const m = /^(R\d{1,2}|fp-?\d{1,6})(?:_[rwD]{1,3})?$/.exec(raw);
  return m?.[1];
}

/** Parses one printed state (everything after `N: ` or `from X to Y: `, or an instruction's `; ` comment). */
export function parseState(text: string): PrintedState {
  const state: PrintedState = { frame: 0, slots: [] };
  for (const tok of tokens(text.length > MAX_STATE_TEXT ? text.slice(0, MAX_STATE_TEXT) : text)) {
    const frame = /^frame(\d{1,2}):$/.exec(tok);
    if (frame) {
      state.frame = Number(frame[1]);
      continue;
    }
    const eq = tok.indexOf('=');
    if (eq <= 0) continue;
    const key = tok.slice(0, eq);
    const value = tok.slice(eq + 1);
    if (key === 'refs') {
      state.refs = value;
      continue;
    }
    const name = slotName(key);
    if (name) state.slots.push({ name, value });
  }
  return state;
}

export interface ValueDescription {
  /** The value's type as printed, without the precision mark: `scalar`, `map_value_or_null`, `fp`, `stack`. */
  type: string;
  /** The verifier tracks this scalar precisely (printed with a `P` prefix). */
  precise: boolean;
  /** May be NULL: the program must compare it with 0 before using it. */
  nullable: boolean;
  /** `key=value` pairs inside the parentheses; chained keys (`smax=umax=9`) each get the value. */
  fields: Record<string, string>;
  /** A known constant (`R2=16`, `inv16` on 5.10). */
  constant?: string;
  /** Plain words: "scalar in [0, 99]", "map value or NULL (map counts, 128-byte value)". */
  summary: string;
}

function fieldsOf(inner: string): Record<string, string> {
  const out: Record<string, string> = {};
  let depth = 0;
  let start = 0;
  const take = (part: string): void => {
    const pieces = part.split('=');
    const value = pieces.pop() ?? '';
    for (const k of pieces) if (k) out[k.trim()] = value.trim();
  };
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) depth = Math.max(0, depth - 1);
    else if (c === 44 && depth === 0) {
      take(inner.slice(start, i));
      start = i + 1;
    }
  }
  take(inner.slice(start));
  return out;
}

const STACK_BYTES = /^[m0?rifdsD]{1,8}$/;

/** What the kernel's names mean, in a few words (types not listed keep their own name). */
const TYPE_WORDS: Record<string, string> = {
  ctx: 'the program context',
  map_ptr: 'a map',
  map_value: 'a map value',
  ringbuf_mem: 'a reserved ring buffer record',
  alloc_mem: 'a reserved ring buffer record',
  mem: 'memory',
  pkt: 'packet data',
  fp: 'the stack',
};

/** Splits `scalar(...)`/`P4`/`inv(...)` etc. into type, fields and a short summary. */
export function describeValue(raw: string): ValueDescription {
  let v = raw.trim();
  let precise = false;
  if (/^P(?=[a-z\d-])/.test(v)) {
    precise = true;
    v = v.slice(1);
  }
  // 5.10 marks a precise scalar `invP16` / `invP(…)`.
  if (/^invP/.test(v)) {
    precise = true;
    v = `inv${v.slice(4)}`;
  }
  if (/^-?\d+$|^-?0x[0-9a-f]+$/i.test(v)) return { type: 'scalar', precise, nullable: false, fields: {}, constant: v, summary: `the constant ${v}` };
  // 5.10 prints known scalars as `inv16`, kernels before 5.0 as `imm16`.
  const inv = /^(?:inv|imm)(-?\d+)$/.exec(v);
  if (inv?.[1]) return { type: 'scalar', precise, nullable: false, fields: {}, constant: inv[1], summary: `the constant ${inv[1]}` };
  const fp = /^fp(-?\d+)$/.exec(v);
  if (fp) return { type: 'fp', precise, nullable: false, fields: { off: fp[1] ?? '0' }, summary: `a pointer into the stack at offset ${fp[1] ?? '0'}` };
  if (STACK_BYTES.test(v)) return { type: 'stack', precise, nullable: false, fields: {}, summary: stackBytes(v) };
  const m = /^([A-Za-z_][\w]*)(?:\((.*)\))?$/.exec(v);
  if (!m) return { type: v, precise, nullable: false, fields: {}, summary: v };
  let type = m[1] ?? v;
  if (type === 'inv') type = 'scalar';
  const fields = m[2] !== undefined ? fieldsOf(m[2]) : {};
  const nullable = /_or_null/.test(type) || /^ptr_or_null_/.test(type);
  return { type, precise, nullable, fields, summary: summarize(type, fields, nullable) };
}

function range(lo: string | undefined, hi: string | undefined): string | undefined {
  if (lo === undefined && hi === undefined) return undefined;
  return `[${lo ?? '…'}, ${hi ?? '…'}]`;
}

function summarize(type: string, f: Record<string, string>, nullable: boolean): string {
  if (type === 'scalar') {
    const signed = range(f.smin ?? f.smin_value, f.smax ?? f.smax_value);
    const unsigned = range(f.umin ?? f.umin_value, f.umax ?? f.umax_value);
    const r = unsigned ?? signed;
    return r ? `a number in ${r}${signed && unsigned && signed !== unsigned ? ` (signed ${signed})` : ''}` : 'any number (unknown scalar)';
  }
  const base = type.replace(/_or_null$/, '').replace(/^ptr_or_null_/, 'ptr_');
  const words = TYPE_WORDS[base] ?? base.replace(/_/g, ' ');
  const details: string[] = [];
  if (f.map) details.push(`map ${f.map}`);
  if (f.vs) details.push(`${f.vs}-byte value`);
  if (f.sz) details.push(`${f.sz} bytes`);
  if (f.off && f.off !== '0') details.push(`offset ${f.off}`);
  const varRange = range(f.umin ?? f.smin, f.umax ?? f.smax);
  if (varRange && base !== 'scalar') details.push(`plus a variable offset in ${varRange}`);
  if (f.ref_obj_id) details.push(`reference ${f.ref_obj_id}`);
  return `${words}${nullable ? ' or NULL' : ''}${details.length ? ` (${details.join(', ')})` : ''}`;
}

function stackBytes(v: string): string {
  const kinds: string[] = [];
  if (v.includes('m')) kinds.push('m = written data');
  if (v.includes('0')) kinds.push('0 = zero');
  if (v.includes('?')) kinds.push('? = never written');
  if (v.includes('r')) kinds.push('r = a spilled register');
  return `stack bytes ${v}${kinds.length ? ` (${kinds.join(', ')})` : ''}`;
}

/**
 * The registers and stack slots an instruction touches, from its text:
 * `*(u32 *)(r6 +0) = r0` → R6, R0; `*(u64 *)(r10 -8) = r1` → R1, fp-8; `call …` → R0–R5.
 */
export function slotsOfInstruction(text: string): string[] {
  const out = new Set<string>();
  if (/^call\b/.test(text)) for (const r of ['R1', 'R2', 'R3', 'R4', 'R5', 'R0']) out.add(r);
  for (const m of text.matchAll(/\b[rw](\d{1,2})\b/g)) if (m[1] !== '10') out.add(`R${m[1] ?? ''}`);
  for (const m of text.matchAll(/\(r10 ([+-]\d{1,6})\)/g)) {
    const off = Number(m[1]);
    if (off < 0) out.add(`fp-${Math.ceil(-off / 8) * 8}`);
  }
  return [...out];
}
