// A TCP proxy on 127.0.0.1 in front of a real sshd, for causing connection faults for
// real: it can throttle either direction (so an upload or a reply is in flight long
// enough to cut it) and cut every connection at once (the network goes away: both
// ends see the TCP connection close, as with a dropped link or a dying router).
import net from 'node:net';

export interface ThrottlingProxy {
  port: number;
  /** Bytes/s client → server and server → client; Infinity = no limit. */
  setRate(up: number, down: number): void;
  /** Bytes forwarded client → server so far (all connections). */
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** Destroys every open connection (both sides). */
  cut(): void;
  close(): Promise<void>;
}

/** Paces one direction: chunks are forwarded at `rate()` bytes/s, pausing the source meanwhile. */
function pipeThrottled(from: net.Socket, to: net.Socket, rate: () => number, count: (n: number) => void): void {
  const queue: Buffer[] = [];
  let sending = false;
  const pump = (): void => {
    if (sending) return;
    const chunk = queue.shift();
    if (!chunk) {
      from.resume();
      return;
    }
    sending = true;
    const r = rate();
    const piece = Number.isFinite(r) ? chunk.subarray(0, Math.max(1, Math.floor(r / 20))) : chunk;
    if (piece.length < chunk.length) queue.unshift(chunk.subarray(piece.length));
    const delay = Number.isFinite(r) ? (piece.length / r) * 1000 : 0;
    setTimeout(() => {
      sending = false;
      if (to.destroyed) return;
      count(piece.length);
      to.write(piece);
      pump();
    }, delay);
  };
  from.on('data', (d: Buffer) => {
    queue.push(d);
    if (queue.length > 4) from.pause();
    pump();
  });
}

export async function startProxy(targetPort: number): Promise<ThrottlingProxy> {
  let up = Infinity;
  let down = Infinity;
  let bytesUp = 0;
  let bytesDown = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
    pipeThrottled(client, upstream, () => up, (n) => (bytesUp += n));
    pipeThrottled(upstream, client, () => down, (n) => (bytesDown += n));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    setRate: (u, d) => {
      up = u;
      down = d;
    },
    get bytesUp() {
      return bytesUp;
    },
    get bytesDown() {
      return bytesDown;
    },
    cut: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
