// RemoteShell over the guest agent: one Unix socket (a QEMU virtio-serial port) per host
// process, channels multiplexed on it — a process per spawn (stdin/stdout/stderr/exit) or a
// file being put. Losing the socket (QEMU exited, guest powered off) ends every channel with
// `connectionLost`; the agent closes the processes' stdin, which detaches a helper.
import fs from 'node:fs';
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { StudioError } from '../../util/errors';
import type { ExecResult, HelperExit, RemoteProcess, RemoteShell, RemoteSpawnOptions } from '../types';
import {
  AGENT_MAX_PAYLOAD,
  AGENT_PROTOCOL,
  AgentFrameReader,
  GuestFrame,
  HostFrame,
  SIGNALS,
  decodeError,
  decodeExit,
  decodeHello,
  encodeFrame,
  encodePut,
  encodeSignal,
  encodeSpawn,
  type AgentFrame,
  type AgentHello,
} from './agentProtocol';

interface Channel {
  /** STARTED (pid) or, for a PUT, nothing until EXIT. */
  started(pid: number | undefined): void;
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
  exit(e: HelperExit): void;
  failed(message: string, errno: number): void;
}

const SIGNAL_NAMES: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

/** ENOENT and friends, as a person reads them. */
function agentError(target: string, what: string, message: string, errno: number): StudioError {
  const missing = errno === 2;
  return new StudioError(`${target}: ${what} failed: ${message}`, {
    code: missing ? 'ENOENT' : 'EAGENT',
    ...(missing ? { hint: `the guest is a small busybox system: give an absolute path, or put a static binary there first` } : {}),
  });
}

export interface AgentLinkOptions {
  /** For messages: the target name (qemu:debian-6.1). */
  name: string;
  /** Time for the agent's HELLO (the guest may still be booting). */
  helloTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called once when the socket has closed, for whatever reason (releases the port's claim). */
  onClosed?: () => void;
}

export class AgentLink implements RemoteShell {
  readonly name: string;
  hello: AgentHello | undefined;
  private readonly reader = new AgentFrameReader();
  private readonly channels = new Map<number, Channel>();
  private readonly lostListeners = new Set<(reason: string) => void>();
  private nextChannel = 1;
  private lostReason: string | undefined;
  private closed = false;
  private readonly paused = new Set<PassThrough>();

  private constructor(private readonly socket: net.Socket, opts: AgentLinkOptions) {
    this.name = opts.name;
  }

  /** Connects to a port's socket and waits for the agent's HELLO. */
  static async open(socketPath: string, opts: AgentLinkOptions): Promise<AgentLink> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(socketPath);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    return AgentLink.over(socket, opts);
  }

  /** A link over a connected stream (a port's socket; in tests, a socket pair to an agent on this host). */
  static async over(socket: net.Socket, opts: AgentLinkOptions): Promise<AgentLink> {
    const link = new AgentLink(socket, opts);
    if (opts.onClosed) socket.once('close', opts.onClosed);
    await link.handshake(opts.helloTimeoutMs ?? 10_000, opts.signal);
    return link;
  }

  private handshake(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.socket.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(new StudioError('cancelled', { code: 'ABORT_ERR' }));
      const timer = setTimeout(
        () => fail(new StudioError(`${this.name}: the guest agent did not answer within ${timeoutMs / 1000} s`, { code: 'EAGENTHELLO', hint: 'see the guest console: ringbuf-studio vm status --console' })),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket.on('error', (err: Error) => this.lost(`the VM's port closed (${err.message})`));
      this.socket.on('close', () => this.lost(`the VM ${this.name} stopped or closed its port`));
      this.channels.set(0, {
        started: () => undefined,
        output: () => undefined,
        failed: () => undefined,
        exit: (e) => fail(new StudioError(`${this.name}: ${e.connectionLost ?? 'the agent closed the port'}`, { code: 'EAGENTHELLO' })),
      });
      this.onHello = (hello) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.channels.delete(0);
        if (hello.protocol !== AGENT_PROTOCOL) {
          fail(new StudioError(`${this.name}: the guest agent speaks protocol ${hello.protocol}, this Ringbuf Studio ${AGENT_PROTOCOL}`, { code: 'EAGENTPROTO', hint: `restart the VM: ringbuf-studio vm stop ${this.name}` }));
          return;
        }
        this.hello = hello;
        resolve();
      };
      this.socket.write(encodeFrame(HostFrame.helloReq, 0));
    });
  }

  private onHello: (hello: AgentHello) => void = () => undefined;

  private onData(chunk: Buffer): void {
    let frames: AgentFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.lost(`the guest agent sent a malformed frame (${err instanceof Error ? err.message : String(err)})`);
      this.socket.destroy();
      return;
    }
    for (const f of frames) this.dispatch(f);
  }

  private dispatch(f: AgentFrame): void {
    if (f.type === GuestFrame.hello) {
      const hello = decodeHello(f.payload);
      if (hello) this.onHello(hello);
      return;
    }
    const ch = this.channels.get(f.channel);
    if (!ch) return; // a channel we already gave up on
    switch (f.type) {
      case GuestFrame.started:
        ch.started(f.payload.length >= 4 ? f.payload.readUInt32LE(0) : undefined);
        break;
      case GuestFrame.stdout:
      case GuestFrame.stderr:
        ch.output(f.type === GuestFrame.stdout ? 'stdout' : 'stderr', Buffer.from(f.payload));
        break;
      case GuestFrame.exit: {
        const e = decodeExit(f.payload);
        this.channels.delete(f.channel);
        ch.exit({ code: e.code, signal: e.signal ? (SIGNAL_NAMES[e.signal] ?? `signal ${e.signal}`) : null });
        break;
      }
      case GuestFrame.error: {
        const e = decodeError(f.payload);
        this.channels.delete(f.channel);
        ch.failed(e.message, e.errno);
        break;
      }
    }
  }

  private lost(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = this.closed ? 'connection closed' : reason;
    for (const ch of [...this.channels.values()]) ch.exit({ code: null, signal: null, connectionLost: this.lostReason });
    this.channels.clear();
    if (!this.closed) for (const fn of this.lostListeners) fn(this.lostReason);
    this.lostListeners.clear();
  }

  private send(type: number, channel: number, payload?: Uint8Array): boolean {
    if (this.lostReason !== undefined) return true;
    return this.socket.write(encodeFrame(type, channel, payload));
  }

  /** Sends bytes as DATA frames; resolves when the socket can take more. */
  private async sendData(channel: number, data: Buffer): Promise<void> {
    for (let off = 0; off < data.length; off += AGENT_MAX_PAYLOAD) {
      if (!this.send(HostFrame.data, channel, data.subarray(off, off + AGENT_MAX_PAYLOAD))) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            this.socket.off('drain', done);
            this.socket.off('close', done);
            resolve();
          };
          this.socket.once('drain', done);
          this.socket.once('close', done);
        });
      }
    }
  }

  private assertUp(): void {
    if (this.lostReason !== undefined) throw new StudioError(`${this.name}: ${this.lostReason}`, { code: 'EVMLOST', hint: 'start it again (any run on the target does), or see ringbuf-studio vm status' });
  }

  private allocChannel(): number {
    const id = this.nextChannel;
    this.nextChannel = this.nextChannel >= 0xffff_fff0 ? 1 : this.nextChannel + 1;
    return id;
  }

  /** Applies the reader's back-pressure: while a consumer holds a stream full, stop reading the port. */
  private pushTo(stream: PassThrough, data: Buffer): void {
    if (stream.write(data) || stream.readableFlowing === null) return;
    this.paused.add(stream);
    this.socket.pause();
    stream.once('drain', () => {
      this.paused.delete(stream);
      if (!this.paused.size) this.socket.resume();
    });
  }

  async spawn(argv: readonly string[], opts: RemoteSpawnOptions = {}): Promise<RemoteProcess> {
    this.assertUp();
    const id = this.allocChannel();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let resolveExit!: (e: HelperExit) => void;
    const exited = new Promise<HelperExit>((r) => (resolveExit = r));
    let resolvePid!: (pid: number | undefined) => void;
    const pid = new Promise<number | undefined>((r) => (resolvePid = r));
    let done = false;
    const started = new Promise<void>((resolve, reject) => {
      this.channels.set(id, {
        started: (p) => {
          resolvePid(p);
          resolve();
        },
        output: (which, data) => this.pushTo(which === 'stdout' ? stdout : stderr, data),
        exit: (e) => {
          done = true;
          resolvePid(undefined);
          stdout.end();
          stderr.end();
          resolveExit(e);
          if (e.connectionLost) reject(new StudioError(`${this.name}: ${e.connectionLost}`, { code: 'EVMLOST' }));
        },
        failed: (message, errno) => {
          done = true;
          resolvePid(undefined);
          stdout.end();
          stderr.end();
          resolveExit({ code: 127, signal: null });
          reject(agentError(this.name, `starting ${argv[0] ?? ''}`, message, errno));
        },
      });
    });
    this.send(HostFrame.spawn, id, encodeSpawn(argv, opts.env, opts.cwd));
    await started;
    const stdin = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (done) return cb();
        this.sendData(id, chunk).then(() => cb(), cb);
      },
      final: (cb) => {
        if (!done) this.send(HostFrame.eof, id);
        cb();
      },
    });
    stdin.on('error', () => undefined); // writes after exit are dropped, as with a closed pipe
    const terminate = async (graceMs = 2000): Promise<void> => {
      if (done) return;
      stdin.end();
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
      if (timedOut && !done) {
        this.send(HostFrame.signal, id, encodeSignal(SIGNALS.SIGKILL));
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      }
    };
    if (opts.signal) {
      const onAbort = (): void => void terminate();
      opts.signal.addEventListener('abort', onAbort, { once: true });
      void exited.then(() => opts.signal?.removeEventListener('abort', onAbort));
    }
    return { stdout, stderr, stdin, pid, exited, terminate };
  }

  async exec(argv: readonly string[], opts: { stdin?: string | Uint8Array; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecResult> {
    const proc = await this.spawn(argv, opts.signal ? { signal: opts.signal } : {});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // The streams flow on a later tick, while EXIT may already be here (all frames in one
    // read): the result is complete when the process exited and both streams ended.
    const ended = (s: NodeJS.ReadableStream, into: Buffer[]): Promise<void> =>
      new Promise((resolve) => {
        s.on('data', (d: Buffer) => into.push(d));
        s.once('end', resolve);
      });
    const complete = Promise.all([proc.exited, ended(proc.stdout, out), ended(proc.stderr, err)]).then(([e]) => e);
    if (opts.stdin === undefined) proc.stdin.end();
    else proc.stdin.end(Buffer.from(opts.stdin));
    const timeoutMs = opts.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([complete, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)))]);
    clearTimeout(timer);
    if (!exit) {
      await proc.terminate(0);
      throw new StudioError(`${this.name}: ${argv.join(' ')} did not finish within ${timeoutMs / 1000} s`, { code: 'EVMEXEC' });
    }
    if (exit.connectionLost) throw new StudioError(`${this.name}: ${exit.connectionLost}`, { code: 'EVMLOST' });
    return { code: exit.code, signal: exit.signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  }

  async putFile(localPath: string, remotePath: string, mode: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    this.assertUp();
    const id = this.allocChannel();
    const finished = new Promise<void>((resolve, reject) => {
      this.channels.set(id, {
        started: () => undefined,
        output: () => undefined,
        exit: (e) => (e.connectionLost ? reject(new StudioError(`${this.name}: ${e.connectionLost} while writing ${remotePath}`, { code: 'EVMLOST' })) : resolve()),
        failed: (message, errno) => reject(agentError(this.name, `writing ${remotePath}`, message, errno)),
      });
    });
    finished.catch(() => undefined); // awaited below, after the data is sent
    this.send(HostFrame.put, id, encodePut(remotePath, mode));
    for await (const chunk of fs.createReadStream(localPath, { highWaterMark: 256 * 1024 })) {
      opts.signal?.throwIfAborted();
      if (this.lostReason !== undefined || !this.channels.has(id)) break;
      await this.sendData(id, chunk as Buffer);
    }
    this.send(HostFrame.eof, id);
    await finished;
  }

  /** Asks the guest to power off (the agent syncs and halts; QEMU then exits). */
  poweroff(): void {
    this.send(HostFrame.poweroff, 0);
  }

  onLost(fn: (reason: string) => void): () => void {
    if (this.lostReason !== undefined) {
      fn(this.lostReason);
      return () => undefined;
    }
    this.lostListeners.add(fn);
    return () => this.lostListeners.delete(fn);
  }

  /** Whether the port is gone (the guest stopped). */
  get isLost(): boolean {
    return this.lostReason !== undefined;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.lostReason !== undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}
