// Byte-level mutator: bit flips, interesting values, truncation, splicing between
// seeds, dictionary tokens, range deletion/duplication. Deterministic for a given rng,
// so a run is reproduced by its seed.
export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x20, 0x10];
const MAX_LEN = 1 << 20;

const int = (r: Rng, n: number): number => Math.floor(r() * n);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function mutateOnce(b: Uint8Array, r: Rng, seeds: readonly Uint8Array[], dict: readonly Uint8Array[]): Uint8Array {
  const n = b.length;
  switch (int(r, 9)) {
    case 0: {
      // bit flips (few, anywhere)
      const out = b.slice();
      for (let i = 1 + int(r, 8); i > 0 && n; i--) {
        const at = int(r, n);
        out[at] = (out[at] ?? 0) ^ (1 << int(r, 8));
      }
      return out;
    }
    case 1: {
      // interesting byte / u32 values
      const out = b.slice();
      if (!n) return out;
      const at = int(r, n);
      if (r() < 0.5 || at + 4 > n) out[at] = INTERESTING[int(r, INTERESTING.length)] ?? 0;
      else new DataView(out.buffer).setUint32(at, [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, n, n * 2][int(r, 7)] ?? 0, r() < 0.5);
      return out;
    }
    case 2:
      return b.subarray(0, int(r, n + 1)).slice(); // truncation
    case 3: {
      // splice: head of this input + tail of another seed
      const other = seeds[int(r, seeds.length)] ?? b;
      return concat(b.subarray(0, int(r, n + 1)), other.subarray(int(r, other.length + 1)));
    }
    case 4: {
      // insert a dictionary token
      const tok = dict[int(r, dict.length)] ?? new Uint8Array(0);
      const at = int(r, n + 1);
      return concat(b.subarray(0, at), tok, b.subarray(at));
    }
    case 5: {
      // overwrite with a dictionary token
      const tok = dict[int(r, dict.length)] ?? new Uint8Array(0);
      const out = b.slice();
      if (n) out.set(tok.subarray(0, Math.max(0, n - 1)), int(r, Math.max(1, n - tok.length)));
      return out;
    }
    case 6: {
      // delete a range
      const at = int(r, n + 1);
      return concat(b.subarray(0, at), b.subarray(Math.min(n, at + 1 + int(r, 64))));
    }
    case 7: {
      // duplicate a range
      const at = int(r, n + 1);
      const len = int(r, 256);
      return concat(b.subarray(0, at), b.subarray(at, at + len), b.subarray(at));
    }
    default: {
      // random bytes over a short range
      const out = b.slice();
      const at = int(r, n + 1);
      for (let i = at; i < Math.min(n, at + 1 + int(r, 16)); i++) out[i] = int(r, 256);
      return out;
    }
  }
}

/** One fuzz input: a seed with 1–4 stacked mutations. */
export function mutate(seeds: readonly Uint8Array[], dict: readonly Uint8Array[], r: Rng): Uint8Array {
  let b = seeds[int(r, seeds.length)] ?? new Uint8Array(0);
  for (let i = 1 + int(r, 4); i > 0; i--) b = mutateOnce(b, r, seeds, dict);
  return b.length > MAX_LEN ? b.subarray(0, MAX_LEN) : b;
}
