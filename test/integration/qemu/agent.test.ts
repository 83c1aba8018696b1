// The guest agent (helper/agent) driven by the real TypeScript link (AgentLink), on this
// host: the agent gets one end of a socket pair as its port (--port-fd), exactly the byte
// stream a virtio-serial port carries, so the protocol, process handling and the
// "host went away" path are tested from both sides without booting a VM.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentLink } from '../../../core/transport/qemu/agentLink';
import { encodeFrame, HostFrame } from '../../../core/transport/qemu/agentProtocol';
import { prepare, root } from '../run/support';

const agentBinary = path.join(root, 'helper/build/ringbuf-agent-x86_64');

interface Running {
  agent: ChildProcess;
  socket: net.Socket;
  log: () => string;
}

function startAgent(idleSec = 0): Running {
  const agent = spawn(agentBinary, ['--port-fd', '3', '--idle', String(idleSec)], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let log = '';
  agent.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const socket = agent.stdio[3] as net.Socket;
  return { agent, socket, log: () => log };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ringbuf-agent over a socket pair (the protocol and process handling, no VM)', () => {
  let work: string;
  const started: Running[] = [];
  const open = async (idleSec = 0): Promise<{ link: AgentLink; run: Running }> => {
    const run = startAgent(idleSec);
    started.push(run);
    return { link: await AgentLink.over(run.socket, { name: 'test-agent' }), run };
  };

  beforeAll(() => {
    prepare();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-agent-'));
  });
  afterEach(() => {
    for (const r of started.splice(0)) r.agent.kill('SIGKILL');
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('answers HELLO with its protocol and idle setting', async () => {
    const { link } = await open(42);
    expect(link.hello).toMatchObject({ protocol: 1, idleSec: 42, version: '0.1.0' });
  });

  it('runs an argv with separate stdout, stderr, exit code, stdin, env and cwd', async () => {
    const { link } = await open();
    const r = await link.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect({ code: r.code, out: r.stdout.toString(), err: r.stderr.toString() }).toEqual({ code: 3, out: 'out\n', err: 'err\n' });
    expect((await link.exec(['cat'], { stdin: 'hello from the host' })).stdout.toString()).toBe('hello from the host');
    const env = await link.spawn(['sh', '-c', 'echo "$FOO $HOME"; pwd'], { env: { FOO: 'bar' }, cwd: work });
    const out: Buffer[] = [];
    env.stdout.on('data', (d: Buffer) => out.push(d));
    env.stdin.end();
    expect(await env.exited).toEqual({ code: 0, signal: null });
    expect(Buffer.concat(out).toString()).toBe(`bar /root\n${work}\n`);
  });

  it('never goes through a shell: metacharacters in argv arrive as text', async () => {
    const { link } = await open();
    const hostile = '$(touch pwned); `id` | rm -rf / ; echo "x"';
    const r = await link.exec(['echo', hostile], { timeoutMs: 5000 });
    expect(r.stdout.toString()).toBe(`${hostile}\n`);
    expect(fs.existsSync(path.join(os.homedir(), 'pwned'))).toBe(false);
  });

  it('a program that does not exist is an error naming it, not a process', async () => {
    const { link } = await open();
    const err = await link.spawn(['/nonexistent/trigger']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/starting \/nonexistent\/trigger failed: .*No such file or directory/);
    expect((err as { code?: string }).code).toBe('ENOENT');
    // The link stays usable.
    expect((await link.exec(['true'])).code).toBe(0);
  });

  it('reports the pid and a killing signal; terminate() kills what ignores stdin EOF', async () => {
    const { link } = await open();
    const sleeper = await link.spawn(['sleep', '30']);
    const pid = await sleeper.pid;
    expect(pid).toBeGreaterThan(1);
    expect(alive(pid ?? 0)).toBe(true);
    await sleeper.terminate(200);
    expect(await sleeper.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(alive(pid ?? 0)).toBe(false);
  });

  it('carries 20 MB of output and a 3 MB upload intact', async () => {
    const { link } = await open();
    const big = await link.exec(['head', '-c', String(20 << 20), '/dev/urandom'], { timeoutMs: 60_000 });
    expect(big.stdout.length).toBe(20 << 20);
    const local = path.join(work, 'blob');
    fs.writeFileSync(local, crypto.randomBytes(3 << 20));
    const remote = path.join(work, 'blob.copy');
    await link.putFile(local, remote, 0o640);
    expect(fs.readFileSync(remote).equals(fs.readFileSync(local))).toBe(true);
    expect(fs.statSync(remote).mode & 0o777).toBe(0o640);
  });

  it('putFile never writes through a symlink at the destination', async () => {
    const { link } = await open();
    const victim = path.join(work, 'victim');
    fs.writeFileSync(victim, 'untouched');
    fs.symlinkSync(victim, path.join(work, 'link'));
    fs.writeFileSync(path.join(work, 'payload'), 'overwritten');
    const err = await link.putFile(path.join(work, 'payload'), path.join(work, 'link'), 0o644).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/writing .*link failed/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('untouched');
  });

  it('when the host goes away, its processes get EOF on stdin and are killed after the grace period', async () => {
    const { link, run } = await open();
    const reader = await link.spawn(['cat']); // ends at stdin EOF, like the helper detaching
    const stubborn = await link.spawn(['sh', '-c', 'trap "" TERM HUP; sleep 60']);
    const readerPid = (await reader.pid) ?? 0;
    const stubbornPid = (await stubborn.pid) ?? 0;
    run.socket.destroy();
    const gone = async (pid: number, ms: number): Promise<boolean> => {
      const end = Date.now() + ms;
      while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      return !alive(pid);
    };
    expect(await gone(readerPid, 2000)).toBe(true);
    expect(alive(stubbornPid)).toBe(true); // still in its grace period
    expect(await gone(stubbornPid, 8000)).toBe(true);
    expect(run.agent.exitCode).toBeNull(); // the agent itself carries on
  }, 20_000);

  it('exec returns the whole output when STARTED, the output and EXIT arrive in one read (a fast guest)', async () => {
    // A proxy that holds the agent's bytes and hands them over in one write every 300 ms.
    const run = startAgent();
    started.push(run);
    const sock = path.join(work, 'coalesce.sock');
    const server = net.createServer((client) => {
      let held: Buffer[] = [];
      run.socket.on('data', (d: Buffer) => held.push(d));
      const flush = setInterval(() => {
        if (held.length) client.write(Buffer.concat(held));
        held = [];
      }, 300);
      client.on('data', (d: Buffer) => run.socket.write(d));
      client.on('close', () => clearInterval(flush));
    });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const link = await AgentLink.open(sock, { name: 'coalesced' });
      for (let i = 0; i < 3; i++) {
        const r = await link.exec(['echo', `line ${i}`]);
        expect(r.stdout.toString()).toBe(`line ${i}\n`);
      }
      await link.close();
    } finally {
      server.close();
    }
  });

  it('a malformed frame drops the session; a new HELLO_REQ starts a fresh one', async () => {
    const { run } = await open();
    const bad = Buffer.alloc(9);
    bad.writeUInt32LE(2, 0); // shorter than a header
    run.socket.write(bad);
    const again = new Promise<Buffer>((resolve) => {
      let got = Buffer.alloc(0);
      run.socket.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.includes('RBSAGENT')) resolve(got);
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    run.socket.write(encodeFrame(HostFrame.helloReq, 0));
    expect((await again).includes('RBSAGENT')).toBe(true);
    expect(run.log()).toMatch(/bad frame length 2/);
  });

  it('idle power-off outside a VM only ends the agent (never the machine)', async () => {
    const run = startAgent(1);
    started.push(run);
    const code = await new Promise<number | null>((r) => run.agent.on('exit', r));
    expect(code).toBe(0);
    expect(run.log()).toMatch(/idle: exiting \(not PID 1/);
  });
});
