// The recorded-run fixture (test/fixtures/panel/recording.json, written by record.ts)
// and its conversion back to RecordBatches and helper Stats for replay.
import fs from 'node:fs';
import path from 'node:path';
import type { Stats } from '../../core/protocol/helper';
import type { PanelRunInfo } from '../../core/protocol/panel';
import type { RecordBatch } from '../../core/session/types';

export type RecordedFrame =
  | { kind: 'batch'; host: string; map: string; timeMs: number; count: number; data: string; offsets: number[]; lengths: number[] }
  | { kind: 'stats'; host: string; stats: Stats };

export interface Recording {
  note: string;
  recordedAt: string;
  kernel: string;
  helper: string;
  run: PanelRunInfo;
  frames: RecordedFrame[];
}

import { repoRoot } from './root';

export const recordingPath = path.join(repoRoot, 'test/fixtures/panel/recording.json');

export function loadRecording(): Recording {
  return JSON.parse(fs.readFileSync(recordingPath, 'utf8')) as Recording;
}

export function toRecordBatch(f: Extract<RecordedFrame, { kind: 'batch' }>): RecordBatch {
  return {
    host: f.host,
    map: f.map,
    count: f.count,
    timeMs: f.timeMs,
    data: new Uint8Array(Buffer.from(f.data, 'base64')),
    offsets: Uint32Array.from(f.offsets),
    lengths: Uint32Array.from(f.lengths),
  };
}
