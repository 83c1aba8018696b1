// A helper process played by the test through the real codec, for HelperSession paths the real
// helper cannot be made to take on demand (dying before HELLO, garbage, a dropped link, frames
// that come late after the exit). The normal paths run against the real helper in integration tests.
import { PassThrough } from 'node:stream';
import { encodeHelperMessage, type Hello, type HelperMessage } from '../../core/protocol/helper';
import type { HelperExit, HelperProcess } from '../../core/transport/types';

export class FakeHelperProcess implements HelperProcess {
  readonly stdout = new PassThrough();
  readonly stdin = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exited: Promise<HelperExit>;
  private resolveExit!: (e: HelperExit) => void;
  terminated = false;
  constructor() {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }
  /** The helper writes a message. */
  say(m: HelperMessage): void {
    this.stdout.write(encodeHelperMessage(m));
  }
  exit(e: HelperExit): void {
    this.stdout.end();
    this.resolveExit(e);
  }
  /** The exit status arrives, but the output keeps flowing (as it may over SSH, or from a full pipe). */
  exitBeforeOutputEnds(e: HelperExit): void {
    this.resolveExit(e);
  }
  terminate(): Promise<void> {
    this.terminated = true;
    this.exit({ code: 0, signal: null });
    return Promise.resolve();
  }
}

export const fakeHello: Hello = { protocol: 2, helper: '0.1.0', kernel: '6.18.0', arch: 'x86_64', pageSize: 4096, btf: true, ringbuf: true, pid: 1, uid: 0, features: { progTypes: {}, attach: {} } };
