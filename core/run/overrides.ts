// `--max-entries MAP=N`: parsed and checked with the same rules as the linter and the
// kernel (ringbuf: a power of two and a multiple of the target's page size), before
// anything is loaded.
import type { Diagnostic } from '../diagnostics';
import type { BpfObjectInfo } from '../elf/bpfObject';
import { MAX_RING_SIZE, formatBytes, isValidRingSize } from '../lint/ringSize';
import { StudioError } from '../util/errors';
import { findMapLine, type SourceContext } from '../verifier/diagnostics';

/** "rb=262144" / "rb=256K" / "rb=1M" → ["rb", 262144]. */
export function parseOverride(text: string): [string, number] {
  const m = /^([A-Za-z_.][\w.]*)=(\d+)([kKmMgG]i?[bB]?)?$/.exec(text.trim());
  if (!m) {
    throw new StudioError(`--max-entries expects MAP=N (e.g. rb=262144 or rb=256K), got '${text}'`, { code: 'EUSAGE' });
  }
  const unit = (m[3] ?? '').charAt(0).toLowerCase();
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : unit === 'g' ? 1024 * 1024 * 1024 : 1;
  const value = Number(m[2]) * mult;
  if (!Number.isSafeInteger(value) || value > 0xffffffff) throw new StudioError(`--max-entries ${text}: ${value} does not fit in a u32`, { code: 'EUSAGE' });
  return [m[1] ?? '', value];
}

/** The valid ring sizes closest to `n` below and above it (either may be missing). */
export function nearestValidRingSizes(n: number, pageSize: number): { below?: number; above?: number } {
  let below: number | undefined;
  let above: number | undefined;
  for (let s = pageSize; s <= MAX_RING_SIZE; s *= 2) {
    if (s <= n) below = s;
    if (s >= n) {
      above = s;
      break;
    }
  }
  return { ...(below !== undefined ? { below } : {}), ...(above !== undefined ? { above } : {}) };
}

/**
 * Problems with the overrides for this object and page size, as error Diagnostics on the
 * map definitions. `target` (e.g. "pi (aarch64)") is named in size messages: the page size is its.
 */
export function validateOverrides(overrides: Record<string, number>, obj: BpfObjectInfo, pageSize: number, src: SourceContext, target?: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (map: string): Pick<Diagnostic, 'line' | 'column' | 'endLine' | 'endColumn'> => {
    const p = findMapLine(src.text, map) ?? { line: 1, column: 1, endColumn: 1 };
    return { line: p.line, column: p.column, endLine: p.line, endColumn: p.endColumn };
  };
  for (const [name, value] of Object.entries(overrides)) {
    const map = obj.maps.find((m) => m.name === name);
    if (!map) {
      const names = obj.maps.filter((m) => !m.name.startsWith('.')).map((m) => m.name);
      out.push({
        file: src.file,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        severity: 'error',
        code: 'override',
        source: 'loader',
        message: `--max-entries ${name}=${value}: the object has no map named '${name}' (maps: ${names.join(', ') || 'none'})`,
      });
      continue;
    }
    if (map.typeName === 'ringbuf' && !isValidRingSize(value, pageSize)) {
      const { below, above } = nearestValidRingSizes(value, pageSize);
      const nearest = [below, above].filter((v): v is number => v !== undefined && v !== value);
      const suggestion = nearest.length ? `; nearest valid: ${nearest.map((v) => `${v} (${formatBytes(v)})`).join(' or ')}` : '';
      out.push({
        file: src.file,
        ...at(name),
        severity: 'error',
        code: 'override',
        source: 'loader',
        message: `--max-entries ${name}=${value} is not a valid ring buffer size${target ? ` on ${target}` : ''}: it must be a power of two and a multiple of the page size (${pageSize})${suggestion}`,
      });
    } else if (value <= 0) {
      out.push({ file: src.file, ...at(name), severity: 'error', code: 'override', source: 'loader', message: `--max-entries ${name}=${value}: max_entries must be at least 1` });
    }
  }
  return out;
}
