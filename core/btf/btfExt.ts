// .BTF.ext reader: func_info and line_info, i.e. "instruction at byte offset X of
// section S came from file:line:col". clang writes it with -g; used to put helper
// calls found in the object at their source line.
import type { Btf } from './btf';
import { BtfError } from './btf';

export interface BtfLineInfo {
  /** Instruction index within the section (byte offset / 8). */
  insnIndex: number;
  file: string;
  line: number;
  column: number;
  /** The source line's text as clang recorded it. */
  lineText: string;
}

export interface BtfFuncInfo {
  insnIndex: number;
  /** BTF id of the FUNC type. */
  typeId: number;
}

export interface BtfExt {
  /** Per ELF section name: line records sorted by insnIndex. */
  lineInfo: Map<string, BtfLineInfo[]>;
  funcInfo: Map<string, BtfFuncInfo[]>;
  /** The line record covering instruction `insnIndex` of `section` (the last one at or before it). */
  lineAt(section: string, insnIndex: number): BtfLineInfo | undefined;
}

/** Parses a .BTF.ext section; names come from the object's .BTF string table. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.length < 24) throw new BtfError(`.BTF.ext is truncated (${bytes.length} bytes)`, 'rebuild the object with clang -g');
  const le = bytes[0] === 0x9f && bytes[1] === 0xeb;
  if (!le && !(bytes[0] === 0xeb && bytes[1] === 0x9f)) throw new BtfError('.BTF.ext has a bad magic (expected 0xeB9F)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = dv.getUint32(4, le);
  if (hdrLen < 24 || hdrLen > bytes.length) throw new BtfError(`.BTF.ext has a bad header length ${hdrLen}`);
  const sub = (off: number, len: number, what: string): DataView | undefined => {
    if (len === 0) return undefined;
    const start = hdrLen + off;
    if (off > bytes.length || start > bytes.length || len > bytes.length - start) {
      throw new BtfError(`.BTF.ext ${what} (${len} bytes at ${off}) runs past the end of the section`);
    }
    return new DataView(bytes.buffer, bytes.byteOffset + start, len);
  };
  const funcDv = sub(dv.getUint32(8, le), dv.getUint32(12, le), 'func_info');
  const lineDv = sub(dv.getUint32(16, le), dv.getUint32(20, le), 'line_info');

  const funcInfo = new Map<string, BtfFuncInfo[]>();
  const lineInfo = new Map<string, BtfLineInfo[]>();
  if (funcDv) {
    readBlocks(funcDv, le, 8, 'func_info', btf, (sec, at) => {
      const list = funcInfo.get(sec) ?? [];
      list.push({ insnIndex: Math.floor(funcDv.getUint32(at, le) / 8), typeId: funcDv.getUint32(at + 4, le) });
      funcInfo.set(sec, list);
    });
  }
  if (lineDv) {
    readBlocks(lineDv, le, 16, 'line_info', btf, (sec, at) => {
      const list = lineInfo.get(sec) ?? [];
      const lineCol = lineDv.getUint32(at + 12, le);
      list.push({
        insnIndex: Math.floor(lineDv.getUint32(at, le) / 8),
        file: btf.str(lineDv.getUint32(at + 4, le)),
        lineText: btf.str(lineDv.getUint32(at + 8, le)),
        line: lineCol >>> 10,
        column: lineCol & 0x3ff,
      });
      lineInfo.set(sec, list);
    });
  }
  for (const list of lineInfo.values()) list.sort((a, b) => a.insnIndex - b.insnIndex);
  return {
    lineInfo,
    funcInfo,
    lineAt(section, insnIndex) {
      const list = lineInfo.get(section);
      if (!list) return undefined;
      let lo = 0;
      let hi = list.length - 1;
      let best: BtfLineInfo | undefined;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const rec = list[mid];
        if (!rec) break;
        if (rec.insnIndex <= insnIndex) {
          best = rec;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return best;
    },
  };
}

function readBlocks(dv: DataView, le: boolean, minRec: number, what: string, btf: Btf, onRecord: (section: string, at: number) => void): void {
  if (dv.byteLength < 4) throw new BtfError(`.BTF.ext ${what} is truncated`);
  const recSize = dv.getUint32(0, le);
  if (recSize < minRec || recSize > 1024) throw new BtfError(`.BTF.ext ${what} has a bad record size ${recSize}`);
  let p = 4;
  while (p < dv.byteLength) {
    if (dv.byteLength - p < 8) throw new BtfError(`.BTF.ext ${what} is truncated at offset ${p}`);
    const section = btf.str(dv.getUint32(p, le));
    const num = dv.getUint32(p + 4, le);
    p += 8;
    if (num > (dv.byteLength - p) / recSize) throw new BtfError(`.BTF.ext ${what} claims ${num} records for ${section || '?'}, more than fit`);
    for (let i = 0; i < num; i++) onRecord(section, p + i * recSize);
    p += num * recSize;
  }
}
