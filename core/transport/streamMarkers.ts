// Markers we plant in a remote process's stderr (its pid, sudo's prompt) are taken
// out of the stream before anyone else reads it; everything else passes through.
// Remote stderr is small (messages, not data), so scanning it costs nothing.
import { PassThrough } from 'node:stream';

export interface StreamMarker {
  /** Matches one occurrence (not global). Markers carry a random token, so output cannot fake them by accident. */
  readonly pattern: RegExp;
  onMatch(match: RegExpExecArray): void;
}

/** The longest marker text we look for; this much is held back while scanning, in case one is split across chunks. */
const HOLD_BACK = 128;

export class StderrMarkers {
  /** The stream with the markers removed (hand this to whoever reads stderr). */
  readonly output = new PassThrough();
  private pending = '';
  private scanning = true;

  constructor(
    source: NodeJS.ReadableStream,
    private readonly markers: readonly StreamMarker[],
  ) {
    source.on('data', (chunk: Buffer | string) => this.take(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    const finish = (): void => {
      this.stop();
      if (!this.output.writableEnded) this.output.end();
    };
    source.once('end', finish);
    source.once('close', finish);
    source.once('error', finish);
  }

  /** Stops looking for markers: what is held is released and the rest passes straight through. */
  stop(): void {
    if (!this.scanning) return;
    this.scanning = false;
    this.release(this.pending);
    this.pending = '';
  }

  private take(chunk: Buffer): void {
    if (!this.scanning) {
      this.output.write(chunk);
      return;
    }
    // latin1 maps bytes 1:1, so text between markers goes out byte for byte.
    this.pending += chunk.toString('latin1');
    for (;;) {
      const hit = this.earliest();
      if (!hit) break;
      this.release(this.pending.slice(0, hit.match.index));
      this.pending = this.pending.slice(hit.match.index + hit.match[0].length);
      hit.marker.onMatch(hit.match);
      if (!this.scanning) {
        this.stop();
        return;
      }
    }
    if (this.pending.length > HOLD_BACK) {
      this.release(this.pending.slice(0, this.pending.length - HOLD_BACK));
      this.pending = this.pending.slice(-HOLD_BACK);
    }
  }

  private earliest(): { marker: StreamMarker; match: RegExpExecArray } | undefined {
    let best: { marker: StreamMarker; match: RegExpExecArray } | undefined;
    for (const marker of this.markers) {
      const match = marker.pattern.exec(this.pending);
      if (match && (!best || match.index < best.match.index)) best = { marker, match };
    }
    return best;
  }

  private release(text: string): void {
    if (text !== '' && !this.output.writableEnded) this.output.write(Buffer.from(text, 'latin1'));
  }
}
