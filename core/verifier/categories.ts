// Why the verifier said no, in a user's words: a category, one sentence that explains
// this failure (with the register and type the verifier named), and the usual fix.
// Rules are checked in order; the first that matches the verifier's message wins.

/** The fixed set `verify --format json` prints in `error.category`. */
export const VERIFIER_CATEGORIES = ['null-check', 'out-of-bounds', 'unreleased-reference', 'invalid-access', 'unbounded-loop', 'too-complex', 'other'] as const;
export type VerifierCategory = (typeof VERIFIER_CATEGORIES)[number];

export interface FailureExplanation {
  category: VerifierCategory;
  /** One sentence: what the verifier saw. */
  explanation: string;
  /** One sentence: what usually fixes it. */
  fix: string;
}

interface Rule {
  category: VerifierCategory;
  match: RegExp;
  explain: (m: RegExpExecArray) => string;
  fix: (m: RegExpExecArray) => string;
}

/** Which call hands out a pointer of this type, for the NULL-check advice. */
function producer(type: string): string {
  if (/ringbuf_mem|alloc_mem/.test(type)) return 'bpf_ringbuf_reserve()';
  if (/map_value/.test(type)) return 'bpf_map_lookup_elem()';
  if (/sock|tcp_sock/.test(type)) return 'the socket lookup';
  return 'the call that returned it';
}

const reg = (m: RegExpExecArray, i = 1): string => m[i] ?? 'the register';

const RULES: Rule[] = [
  {
    category: 'null-check',
    match: /\b(R\d+) invalid mem access '(\w*_or_null\w*)'/,
    explain: (m) => `${reg(m)} holds a pointer that may be NULL (${m[2] ?? ''}) and is dereferenced before any NULL check.`,
    fix: (m) => `Check the result of ${producer(m[2] ?? '')} and return early when it is NULL (e.g. \`if (!e) return 0;\`) before using it.`,
  },
  {
    category: 'null-check',
    match: /\b(R\d+) type=(\w*_or_null\w*) expected=|Possibly NULL pointer passed to (?:trusted )?arg(\d+)/,
    explain: (m) => (m[2] ? `${reg(m)} may be NULL (${m[2]}) where the call needs a valid pointer.` : `argument ${m[3] ?? ''} may be NULL where the call needs a valid pointer.`),
    fix: (m) => `Check the result of ${producer(m[2] ?? '')} and return early when it is NULL (e.g. \`if (!e) return 0;\`) before passing it to a helper.`,
  },
  {
    category: 'unreleased-reference',
    match: /Unreleased reference id=(\d+)|would lead to reference leak|reference leak/,
    explain: () => 'A reference acquired on this path (a reserved ring buffer record, a socket, a task) is still held when the program returns.',
    fix: () => 'Release it on every path before returning: bpf_ringbuf_submit() or bpf_ringbuf_discard() for a reserved record, the matching release for other references.',
  },
  {
    category: 'out-of-bounds',
    match: /\b(R\d+) unbounded memory access|math between (\w+) pointer and register with unbounded min value|(R\d+) (?:min|max) value is outside of the allowed memory range|invalid access to (map value|memory|packet)|invalid (?:unbounded )?variable-offset|value is outside of the allowed memory range|(R\d+) min value is negative|invalid stack off=|invalid (?:read|write) from stack .*var_off|access beyond (?:struct|the end)|out of bound/,
    explain: (m) => {
      const r = m[1] ?? m[3] ?? m[5];
      return `${r ? `${r} points` : 'The access points'} into ${m[4] ?? m[2] ?? 'memory'} at an offset the verifier cannot prove stays within its size.`;
    },
    fix: () => 'Bound the index or size before the access with a check the verifier can follow, e.g. `if (i >= ARRAY_LEN) return 0;` (or mask it: `i & (LEN - 1)` for a power-of-two length).',
  },
  {
    category: 'invalid-access',
    match: /\b(R\d+) invalid mem access '(scalar|inv)'/,
    explain: (m) => `${reg(m)} is a plain number (${m[2] ?? 'scalar'}), not a pointer the verifier knows, and the program reads or writes memory through it.`,
    fix: () => 'Read kernel memory with bpf_probe_read_kernel() / BPF_CORE_READ() and user memory with bpf_probe_read_user() into a local or map buffer, instead of dereferencing the address.',
  },
  {
    category: 'invalid-access',
    match: /\b(R\d+) !read_ok|invalid read from stack|invalid indirect read from stack|(R\d+) invalid mem access '(\w+)'|invalid bpf_context access|cannot write into|only read is supported|dereference of modified \w+ ptr|(R\d+) pointer arithmetic on \w+ prohibited|(R\d+) type=(\w+) expected=/,
    explain: (m) => {
      if (/!read_ok/.test(m[0])) return `${reg(m)} is read before anything was written to it on this path.`;
      if (/from stack/.test(m[0])) return 'The program reads stack bytes that were never written on this path.';
      if (m[3]) return `${reg(m, 2)} points to ${m[3]}, which cannot be accessed this way.`;
      if (m[6]) return `${reg(m, 5)} is ${m[6]}, but the call expects a different kind of argument here.`;
      return 'The program accesses memory in a way its type does not allow (wrong type, read-only, or a modified context pointer).';
    },
    fix: (m) => {
      if (/!read_ok|from stack/.test(m[0])) return 'Initialise the variable (or the whole struct, e.g. `= {}` / __builtin_memset) on every path before it is read.';
      return 'Access it only as its type allows: copy through a helper (bpf_probe_read_kernel/_user), use the context fields the program type defines, or pass the argument type the helper documents.';
    },
  },
  {
    category: 'unbounded-loop',
    match: /infinite loop detected|back-edge from insn|unbounded loop|loop detected/,
    explain: () => 'The verifier came back to the same loop instruction with the same state, so nothing it can see ever ends the loop.',
    fix: () => 'Give the loop a constant upper bound the verifier can follow (`for (i = 0; i < MAX && cond; i++)`), or use bpf_loop() / bpf_for() for long or data-dependent iteration.',
  },
  {
    category: 'too-complex',
    match: /BPF program is too large|too many states|The sequence of \d+ jumps is too complex|combined stack size|call stack of \d+ frames is too deep|complexity limit/,
    explain: () => 'The verifier gave up: it walks every path and every loop iteration separately, and this program needs more than its budget of 1 million instructions (or states).',
    fix: () => 'Cut the work per path: bound loops tightly or move them into bpf_loop(), split the program with tail calls or global (non-static) functions, and mask values with small ranges so branches can merge.',
  },
];

const OTHER_RULES: Array<Omit<Rule, 'category'>> = [
  {
    match: /cannot call GPL-restricted function/,
    explain: () => 'The program calls a GPL-only helper, but its license is not GPL-compatible.',
    fix: () => 'Declare a GPL-compatible license: `char LICENSE[] SEC("license") = "GPL";`.',
  },
  {
    match: /unknown func (\w+)|invalid func (\w+)|program of this type cannot use helper (\w+)|helper call is not allowed in probe/,
    explain: (m) => `${m[1] ?? m[2] ?? m[3] ?? 'This helper'} is not available to this program here (the kernel is too old for it, or the program type may not call it).`,
    fix: () => 'Use a helper this kernel and program type offer (ringbuf-studio probe lists the kernel\'s features), or guard the call with a CO-RE check such as bpf_core_enum_value_exists().',
  },
  {
    match: /R0 !read_ok|At program exit the register R0/,
    explain: () => 'The program returns without a valid return value in R0 on this path.',
    fix: () => 'Return a value on every path (e.g. `return 0;`).',
  },
];

const FALLBACK: Omit<FailureExplanation, 'category'> = {
  explanation: 'The verifier could not prove this instruction safe on the path shown.',
  fix: 'Read the verifier\'s message and the registers at the failing instruction; the highlighted path shows how the program got there.',
};

/** The category, explanation and usual fix for a verifier message (errno helps when the log lost its end). */
export function explainFailure(message: string, errno?: number): FailureExplanation {
  const text = message.length > 4096 ? message.slice(0, 4096) : message;
  for (const r of RULES) {
    const m = r.match.exec(text);
    if (m) return { category: r.category, explanation: r.explain(m), fix: r.fix(m) };
  }
  for (const r of OTHER_RULES) {
    const m = r.match.exec(text);
    if (m) return { category: 'other', explanation: r.explain(m), fix: r.fix(m) };
  }
  // E2BIG (7): the kernel's "program too large" even when the log was cut before the message.
  const tooComplex = RULES.find((r) => r.category === 'too-complex');
  if (errno === 7 && tooComplex) {
    const m = /$/.exec('') as RegExpExecArray;
    return { category: 'too-complex', explanation: tooComplex.explain(m), fix: tooComplex.fix(m) };
  }
  return { category: 'other', ...FALLBACK };
}

/** The hint printed next to a failure: the explanation and the fix. */
export function hintOf(e: FailureExplanation): string {
  return `${e.explanation} ${e.fix}`;
}
