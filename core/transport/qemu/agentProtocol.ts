// The guest agent's framed protocol (helper/agent/AGENT-PROTOCOL.md, mirrored in
// helper/agent/agent.h): `u32 length | u8 type | u32 channel | payload`, little-endian,
// length counting type + channel + payload. One host process talks over one port;
// channels multiplex its processes and file uploads.

export const AGENT_PROTOCOL = 1;
export const AGENT_MAGIC = 'RBSAGENT';
export const AGENT_HEADER = 9;
/** Largest payload either side sends in one frame. */
export const AGENT_MAX_PAYLOAD = 1 << 20;

export const HostFrame = {
  helloReq: 0x01,
  spawn: 0x02,
  put: 0x03,
  data: 0x04,
  eof: 0x05,
  signal: 0x06,
  poweroff: 0x07,
} as const;

export const GuestFrame = {
  hello: 0x81,
  started: 0x82,
  stdout: 0x83,
  stderr: 0x84,
  exit: 0x85,
  error: 0x86,
} as const;

export interface AgentFrame {
  type: number;
  channel: number;
  payload: Buffer;
}

export interface AgentHello {
  protocol: number;
  /** Seconds without a host or a process after which the guest powers off (0 = never). */
  idleSec: number;
  version: string;
}

/** Signal numbers the agent accepts (the same on x86_64 and aarch64 Linux). */
export const SIGNALS = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as const;

export function encodeFrame(type: number, channel: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > AGENT_MAX_PAYLOAD) throw new RangeError(`agent frame payload of ${payload.length} bytes exceeds ${AGENT_MAX_PAYLOAD}`);
  const frame = Buffer.allocUnsafe(AGENT_HEADER + payload.length);
  frame.writeUInt32LE(payload.length + 5, 0);
  frame.writeUInt8(type, 4);
  frame.writeUInt32LE(channel >>> 0, 5);
  frame.set(payload, AGENT_HEADER);
  return frame;
}

function cString(s: string, what: string): Buffer {
  if (s.includes('\0')) throw new RangeError(`${what} contains a NUL byte: ${JSON.stringify(s)}`);
  return Buffer.from(`${s}\0`, 'utf8');
}

/** SPAWN payload: u32 argc | u32 envc | cwd\0 | argv\0… | NAME=value\0… */
export function encodeSpawn(argv: readonly string[], env: Readonly<Record<string, string>> = {}, cwd = ''): Buffer {
  if (!argv.length || !argv[0]) throw new RangeError('an empty argv cannot be started');
  const entries = Object.entries(env);
  for (const [k] of entries) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new RangeError(`environment variable name ${JSON.stringify(k)} is not valid`);
  const counts = Buffer.alloc(8);
  counts.writeUInt32LE(argv.length, 0);
  counts.writeUInt32LE(entries.length, 4);
  return Buffer.concat([counts, cString(cwd, 'the working directory'), ...argv.map((a) => cString(a, 'an argument')), ...entries.map(([k, v]) => cString(`${k}=${v}`, `$${k}`))]);
}

/** PUT payload: u32 mode | path\0 */
export function encodePut(remotePath: string, mode: number): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(mode & 0o7777, 0);
  return Buffer.concat([head, cString(remotePath, 'the remote path')]);
}

export function encodeSignal(signo: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(signo, 0);
  return b;
}

export function decodeHello(payload: Buffer): AgentHello | undefined {
  if (payload.length < 16 || payload.toString('latin1', 0, 8) !== AGENT_MAGIC) return undefined;
  return { protocol: payload.readUInt32LE(8), idleSec: payload.readUInt32LE(12), version: payload.toString('utf8', 16).slice(0, 32) };
}

export function decodeExit(payload: Buffer): { code: number | null; signal: number } {
  if (payload.length < 8) return { code: null, signal: 0 };
  const code = payload.readInt32LE(0);
  return { code: code < 0 ? null : code, signal: payload.readInt32LE(4) };
}

export function decodeError(payload: Buffer): { errno: number; message: string } {
  if (payload.length < 4) return { errno: 0, message: 'unknown error' };
  return { errno: payload.readInt32LE(0), message: payload.toString('utf8', 4, Math.min(payload.length, 4 + 512)) };
}

/**
 * Splits a byte stream into frames. Until the agent's HELLO is seen it skips bytes (a port
 * may hold the tail of an earlier session), then it trusts the framing; a bad length after
 * that is a protocol error.
 */
export class AgentFrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private synced = false;

  push(chunk: Buffer): AgentFrame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.synced && !this.sync()) return [];
    const frames: AgentFrame[] = [];
    let off = 0;
    while (this.buf.length - off >= AGENT_HEADER) {
      const len = this.buf.readUInt32LE(off);
      if (len < 5 || len > 5 + AGENT_MAX_PAYLOAD) throw new RangeError(`agent frame length ${len} is out of range`);
      if (this.buf.length - off < 4 + len) break;
      frames.push({ type: this.buf[off + 4] ?? 0, channel: this.buf.readUInt32LE(off + 5), payload: this.buf.subarray(off + AGENT_HEADER, off + 4 + len) });
      off += 4 + len;
    }
    this.buf = this.buf.subarray(off);
    return frames;
  }

  private sync(): boolean {
    const at = this.buf.indexOf(AGENT_MAGIC, 0, 'latin1');
    if (at < AGENT_HEADER) {
      // Keep a tail that may hold the start of a HELLO.
      if (at < 0) this.buf = this.buf.subarray(Math.max(0, this.buf.length - AGENT_HEADER - AGENT_MAGIC.length));
      else this.buf = this.buf.subarray(at + 1);
      return false;
    }
    const start = at - AGENT_HEADER;
    if (this.buf[start + 4] !== GuestFrame.hello) {
      this.buf = this.buf.subarray(at + 1);
      return this.sync();
    }
    this.buf = this.buf.subarray(start);
    this.synced = true;
    return true;
  }
}
