// Writes raw BTF blobs by hand, for kinds clang 14 does not emit (ENUM64, TYPE_TAG)
// and for malformed input (reference cycles, bad offsets) that no compiler produces.
export class BtfBuilder {
  private readonly strs: number[] = [0];
  private readonly strIndex = new Map<string, number>();
  private readonly words: number[] = [];
  private nextId = 1;

  str(s: string): number {
    if (s === '') return 0;
    const hit = this.strIndex.get(s);
    if (hit !== undefined) return hit;
    const off = this.strs.length;
    for (const b of new TextEncoder().encode(s)) this.strs.push(b);
    this.strs.push(0);
    this.strIndex.set(s, off);
    return off;
  }

  /** Appends one type: name, kind, vlen, kind_flag, size_or_type, then the kind's extra u32 words. Returns its id. */
  add(name: string, kind: number, vlen: number, kflag: boolean, sizeOrType: number, extra: number[] = []): number {
    this.words.push(this.str(name), ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra);
    return this.nextId++;
  }

  int(name: string, size: number, encoding = 0, bits = size * 8): number {
    return this.add(name, 1, 0, false, size, [(encoding << 24) | bits]);
  }

  build(littleEndian = true): Uint8Array {
    const typeLen = this.words.length * 4;
    const strLen = this.strs.length;
    const out = new Uint8Array(24 + typeLen + strLen);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, littleEndian);
    dv.setUint8(2, 1);
    dv.setUint32(4, 24, littleEndian);
    dv.setUint32(8, 0, littleEndian);
    dv.setUint32(12, typeLen, littleEndian);
    dv.setUint32(16, typeLen, littleEndian);
    dv.setUint32(20, strLen, littleEndian);
    this.words.forEach((w, i) => dv.setUint32(24 + i * 4, w >>> 0, littleEndian));
    out.set(this.strs, 24 + typeLen);
    return out;
  }
}
