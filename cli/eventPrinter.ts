// `run`'s event output: batches of records → JSON lines or aligned text rows, serialized by
// the per-layout byte writers of core/decode straight from the helper's frames into a
// reused buffer, written to stdout in chunks. When stdout cannot keep up, the printer asks
// its owner to stop reading the helpers until the queue drains (back-pressure down to the
// rings, whose drops the program counts), so memory stays bounded.
import { ByteOutput } from '../core/decode/byteOutput';
import { compileJsonLineWriter, type LineWriter } from '../core/decode/jsonLines';
import { compileTextLineWriter, type TextLineWriter } from '../core/decode/textLines';
import type { EventLayout } from '../core/btf/layoutTypes';
import type { RecordBatch } from '../core/session/types';
import type { CliIo } from './command';

/** Where printed bytes go: the process's Output, or a test's text capture. */
export interface EventSink {
  /** `written` runs when the chunk's memory may be reused. */
  write(chunk: Uint8Array, written: () => void): void;
  /** Too much is queued for the reader: stop producing until onDrain. */
  readonly congested: boolean;
  onDrain(fn: () => void): () => void;
}

/** The sink for a CliIo: its Output when it has one (the real stdout), else its text callback. */
export function eventSinkOf(io: CliIo): EventSink {
  const output = io.output;
  if (output) return { write: (chunk, written) => output.write(chunk, written), get congested() { return output.congested; }, onDrain: (fn) => output.onDrain(fn) };
  const text = new TextDecoder();
  return {
    // Chunks end at line ends, so no UTF-8 sequence is split between two of them.
    write: (chunk, written) => {
      io.stdout(text.decode(chunk));
      written();
    },
    congested: false,
    onDrain: () => () => undefined,
  };
}

/** Pauses and resumes reading from the helpers (back-pressure). */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

export interface EventPrinterOptions {
  format: 'jsonl' | 'text';
  /** Ring → event layout (null: records print as hex); see setLayouts. */
  layouts: Map<string, EventLayout | null>;
  /** Several targets: every event says its host. */
  multiHost: boolean;
  /** Width of the host column in text output. */
  hostWidth: number;
  /** Called once per ring whose records have no known type. */
  onUntyped(map: string): void;
  /** A write that failed after print() returned (the deferred flush): the owner ends the run with it. */
  onFailure(err: unknown): void;
}

/** Bytes gathered before they are handed to stdout. */
const CHUNK_BYTES = 256 * 1024;
const FLUSH_AT = 192 * 1024;

export class EventPrinter {
  private readonly out = new ByteOutput(CHUNK_BYTES);
  private readonly writers = new Map<string, LineWriter | TextLineWriter>();
  private readonly headerDone = new Set<string>();
  private readonly untyped = new Set<string>();
  private flushQueued = false;
  private paused = false;
  private flow: FlowControl | undefined;
  private readonly stopDrainWatch: () => void;

  constructor(
    private readonly sink: EventSink,
    private readonly opts: EventPrinterOptions,
  ) {
    this.stopDrainWatch = sink.onDrain(() => this.resumeFlow());
  }

  /** The rings' layouts, once the run knows them (before the first batch is printed). */
  setLayouts(layouts: Map<string, EventLayout | null>): void {
    this.opts.layouts = layouts;
    this.writers.clear();
  }

  /** From now on a congested stdout pauses reading through `flow`; undefined stops that (and resumes). */
  setFlowControl(flow: FlowControl | undefined): void {
    if (!flow) this.resumeFlow();
    this.flow = flow;
  }

  print(b: RecordBatch): void {
    const writer = this.writerFor(b.host, b.map);
    const out = this.out;
    if (this.opts.format === 'text' && !this.headerDone.has(b.map)) {
      this.headerDone.add(b.map);
      const header = (writer as TextLineWriter).header;
      out.reserve(header.length * 3);
      out.pos += new TextEncoder().encodeInto(header, out.buf.subarray(out.pos)).written;
    }
    const { data, offsets, lengths, count } = b;
    for (let i = 0; i < count; i++) {
      writer.write(out, data, offsets[i] as number, lengths[i] as number);
      if (out.pos >= FLUSH_AT) this.flush();
    }
    if (out.pos > 0 && !this.flushQueued) {
      // Frames that arrive together (one read) go out together, right after.
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        try {
          this.flush();
        } catch (err) {
          this.opts.onFailure(err);
        }
      });
    }
  }

  /** Hands what is gathered to stdout; pauses the helpers when stdout is behind. */
  flush(): void {
    if (this.out.pos === 0) return;
    const chunk = this.out.take();
    this.sink.write(chunk, () => this.out.recycle(chunk));
    if (this.sink.congested && this.flow && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** Writes what is left; stops watching stdout. */
  dispose(): void {
    try {
      this.flush();
    } catch (err) {
      this.opts.onFailure(err);
    }
    this.setFlowControl(undefined);
    this.stopDrainWatch();
  }

  private resumeFlow(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flow?.resume();
  }

  private writerFor(host: string, map: string): LineWriter | TextLineWriter {
    const key = `${host}\0${map}`;
    let w = this.writers.get(key);
    if (w) return w;
    const layout = this.opts.layouts.get(map) ?? null;
    if (!layout && !this.untyped.has(map)) {
      this.untyped.add(map);
      this.opts.onUntyped(map);
    }
    const multiMap = this.opts.layouts.size > 1;
    if (this.opts.format === 'jsonl') {
      const prefix: Array<[string, string]> = [];
      if (this.opts.multiHost) prefix.push(['host', host]);
      if (multiMap) prefix.push(['map', map]);
      w = compileJsonLineWriter(layout, { prefix });
    } else {
      const hostCol = (h: string): string => (this.opts.multiHost ? `${h.padEnd(this.opts.hostWidth)}  ` : '');
      const mapCol = multiMap ? `${map}  ` : '';
      w = compileTextLineWriter(layout, { rowPrefix: hostCol(host) + mapCol, headerPrefix: hostCol('HOST') + mapCol });
    }
    this.writers.set(key, w);
    return w;
  }
}
