// Common reserve/submit idioms that must lint clean (and do load in the kernel).
export const IDIOM_HEADER = `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nstruct event { int pid; int v; };\nstruct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096 * 64); } rb SEC(".maps");\nstruct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, int); __type(value, long); } drops SEC(".maps");\nstatic __always_inline void fill(struct event *e) { e->v = 1; }\nstatic __always_inline void finish(struct event *e) { bpf_ringbuf_submit(e, 0); }\n`;
export const IDIOMS: Record<string, string> = {
  dropCounter: `SEC("tp/a") int a(void *ctx) { struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); if (!e) { int k = 0; long *d = bpf_map_lookup_elem(&drops, &k); if (d) __sync_fetch_and_add(d, 1); return 0; } e->pid = 1; fill(e); bpf_ringbuf_submit(e, 0); return 0; }`,
  loopContinue: `SEC("tp/b") int b(void *ctx) { for (int i = 0; i < 4; i++) { struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); if (!e) continue; e->pid = i; bpf_ringbuf_submit(e, 0); } return 0; }`,
  switchRelease: `SEC("tp/c") int c(void *ctx) { struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); if (e == NULL) return 0; switch (bpf_get_prandom_u32() & 3) { case 0: bpf_ringbuf_discard(e, 0); break; default: e->pid = 2; bpf_ringbuf_submit(e, 0); break; } return 0; }`,
  helperSubmits: `SEC("tp/d") int d(void *ctx) { struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); if (!e) return 0; e->pid = 3; finish(e); return 0; }`,
  castAndNotEqual: `SEC("tp/e") int f(void *ctx) { struct event *e; e = (struct event *)bpf_ringbuf_reserve(&rb, sizeof(struct event), 0); if (e != NULL) { e->pid = 4; bpf_ringbuf_submit(e, 0); } return 0; }`,
  voidHelper: `static __always_inline void emit(int v) { struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); if (!e) return; e->v = v; bpf_ringbuf_submit(e, 0); }\nSEC("tp/f") int g(void *ctx) { emit(1); return 0; }`,
};

export function idiomProgram(body: string): string {
  return `${IDIOM_HEADER}${body}\nchar LICENSE[] SEC("license") = "GPL";\n`;
}
