// Map-definition rules and their messages, shared by both layers: the source layer
// passes values it evaluated, the object layer the values the compiler produced.
import type { QuickFix, SourceRange } from '../diagnostics';
import { finding, type Finding } from './finding';
import { DEFAULT_RING_SIZE_TEXT, insertMaxEntriesFix, replaceFix, ringSizeFix } from '../source/fixes';
import { effectiveRingSize, formatBytes, isValidRingSize, MAX_RING_SIZE, recordFootprint } from './ringSize';
import type { MapDef, SourceModel } from '../source/sourceModel';

export const MIN_RECORDS = 8;
/** The size a "grow the ring" fix aims for, in records. */
const TARGET_RECORDS = 64;

export interface MapPlacement {
  file: string;
  /** Where the map is defined (its name), when known. */
  mapRange: SourceRange;
  /** The max_entries value expression, when present in the source. */
  sizeRange?: SourceRange;
  model?: SourceModel;
  def?: MapDef;
}

export function maxEntriesFindings(mapName: string, maxEntries: number | undefined, pageSize: number, where: MapPlacement): Finding[] {
  const field = where.def?.fields.find((f) => f.name === 'max_entries');
  if (maxEntries === undefined || maxEntries === 0) {
    const missing = maxEntries === undefined;
    const fixes: QuickFix[] = [];
    if (where.model && where.def) {
      if (missing || !field) fixes.push(insertMaxEntriesFix(where.model, where.def));
      else fixes.push(replaceFix(where.model, field.valueStart, field.valueEnd, DEFAULT_RING_SIZE_TEXT, `Set max_entries to ${DEFAULT_RING_SIZE_TEXT} (256 KiB)`));
    }
    const what = missing ? 'has no max_entries' : 'has max_entries 0';
    return [
      finding('RB001', where.file, (!missing && where.sizeRange) || where.mapRange,
        `Ringbuf map '${mapName}' ${what}: its size in bytes. Loading fails with a bare EINVAL (libbpf prints only "map '${mapName}': failed to create: Invalid argument(-22)"; cilium/ebpf says "MaxEntries may be incorrectly set to zero"). Add __uint(max_entries, 256 * 1024); — a power of two and a multiple of the page size — unless your loader sets it with bpf_map__set_max_entries().`,
        `RB001 ${mapName}`, fixes),
    ];
  }
  if (isValidRingSize(maxEntries, pageSize)) return [];
  const effective = effectiveRingSize(maxEntries, pageSize);
  const fixes: QuickFix[] = [];
  if (effective !== undefined && where.model && field) fixes.push(ringSizeFix(where.model, field, effective));
  const reasons: string[] = [];
  if (!Number.isInteger(Math.log2(maxEntries))) reasons.push('not a power of two');
  if (maxEntries % pageSize !== 0) reasons.push(`not a multiple of the page size (${pageSize})`);
  if (maxEntries > MAX_RING_SIZE) reasons.push(`larger than the largest ring (${formatBytes(MAX_RING_SIZE)})`);
  const outcome = effective !== undefined
    ? `libbpf silently creates a ring of ${effective} bytes (${formatBytes(effective)}) instead, and cilium/ebpf (bpf2go) refuses to load it ("ring map size … not a multiple of page size ${pageSize}"). Use ${effective}`
    : `the kernel rejects it with EINVAL. Use a power of two between ${pageSize} and ${MAX_RING_SIZE}`;
  return [
    finding('RB002', where.file, where.sizeRange ?? where.mapRange,
      `Ringbuf map '${mapName}' has max_entries ${maxEntries}, which is ${reasons.join(' and ')}: ${outcome}.`,
      `RB002 ${mapName}`, fixes),
  ];
}

/** Record size vs ring size (RB010 record bigger than the ring, RB011 fewer than 8 records). */
export function recordSizeFindings(
  mapName: string,
  ringSize: number,
  recordSize: number,
  recordType: string,
  pageSize: number,
  range: SourceRange,
  file: string,
  model?: SourceModel,
  def?: MapDef,
): Finding[] {
  const ring = effectiveRingSize(ringSize, pageSize);
  if (ring === undefined || recordSize <= 0) return [];
  const footprint = recordFootprint(recordSize);
  const records = Math.floor(ring / footprint);
  if (records >= MIN_RECORDS) return [];
  const field = def?.fields.find((f) => f.name === 'max_entries');
  const target = effectiveRingSize(Math.max(footprint * TARGET_RECORDS, pageSize) - 1, pageSize);
  const fixes: QuickFix[] = [];
  if (model && field && target !== undefined) fixes.push(ringSizeFix(model, field, target, `Grow '${mapName}' to ${formatBytes(target)} (${Math.floor(target / footprint)} records)`));
  if (records === 0) {
    return [
      finding('RB010', file, range,
        `A record of ${recordType} (${recordSize} bytes, ${footprint} with the 8-byte header) is larger than ring '${mapName}' (${ring} bytes): every bpf_ringbuf_reserve() returns NULL and every bpf_ringbuf_output() fails, so no event ever arrives. Grow max_entries to at least ${target ?? 'a larger power of two'}.`,
        `RB010 ${mapName}`, fixes),
    ];
  }
  return [
    finding('RB011', file, range,
      `Ring '${mapName}' (${formatBytes(ring)}) holds only ${records} record${records === 1 ? '' : 's'} of ${recordType} (${footprint} bytes each with the header): a short burst, or a consumer a little late, drops events. Grow max_entries to ${target ?? 'a larger power of two'} or more.`,
      `RB011 ${mapName}`, fixes),
  ];
}

// One kernel release parser for lint, connect and run.
export { kernelBefore } from '../util/kernel';

export function oldKernelMapFinding(mapName: string, release: string, range: SourceRange, file: string): Finding {
  return finding('RB012', file, range,
    `Ringbuf map '${mapName}' needs Linux 5.8 or newer, but the target runs ${release}: creating BPF_MAP_TYPE_RINGBUF fails with EINVAL there. Target a kernel ≥ 5.8 (Ubuntu 22.04 ships 5.15), or use a BPF_MAP_TYPE_PERF_EVENT_ARRAY with bpf_perf_event_output() for this host.`,
    `RB012 ${mapName}`);
}

export function oldKernelDynptrFinding(helper: string, release: string, range: SourceRange, file: string, key: string): Finding {
  return finding('RB012', file, range,
    `${helper}() needs Linux 5.19 or newer, but the target runs ${release}: the verifier rejects the program ("invalid func unknown"). Use bpf_ringbuf_reserve() with a fixed-size record on this kernel.`,
    key);
}
