// The agent protocol's TypeScript side: frames as the C agent expects them (checked against
// the real agent in test/integration/qemu/agent.test.ts), and the reader's resync on HELLO.
import { describe, expect, it } from 'vitest';
import {
  AgentFrameReader,
  GuestFrame,
  decodeExit,
  decodeHello,
  encodeFrame,
  encodePut,
  encodeSpawn,
} from '../../../../core/transport/qemu/agentProtocol';

function hello(idle = 600): Buffer {
  const p = Buffer.alloc(16 + 5);
  p.write('RBSAGENT', 0, 'latin1');
  p.writeUInt32LE(1, 8);
  p.writeUInt32LE(idle, 12);
  p.write('0.1.0', 16);
  return encodeFrame(GuestFrame.hello, 0, p);
}

describe('agent protocol', () => {
  it('frames: u32 length (5 + payload) | type | u32 channel | payload, little-endian', () => {
    const f = encodeFrame(0x04, 0x01020304, Buffer.from('hi'));
    expect([...f]).toEqual([7, 0, 0, 0, 0x04, 4, 3, 2, 1, 0x68, 0x69]);
    expect(() => encodeFrame(0x04, 1, Buffer.alloc((1 << 20) + 1))).toThrow(/exceeds/);
  });

  it('SPAWN carries argv, env and cwd as NUL-terminated strings and refuses what C cannot hold', () => {
    const p = encodeSpawn(['/bin/echo', 'a b', ''], { FOO: 'x=y' }, '/tmp');
    expect(p.readUInt32LE(0)).toBe(3);
    expect(p.readUInt32LE(4)).toBe(1);
    expect(p.subarray(8).toString('latin1')).toBe('/tmp\0/bin/echo\0a b\0\0FOO=x=y\0');
    expect(() => encodeSpawn([])).toThrow(/empty argv/);
    expect(() => encodeSpawn(['a\0b'])).toThrow(/NUL/);
    expect(() => encodeSpawn(['x'], { 'BAD NAME': '1' })).toThrow(/not valid/);
    expect(encodePut('/run/x', 0o100755).readUInt32LE(0)).toBe(0o755);
  });

  it('the reader skips an earlier session\'s leftovers until HELLO, then splits frames across chunks', () => {
    const r = new AgentFrameReader();
    const stream = Buffer.concat([Buffer.from('stale output \x05\x00\x00'), hello(), encodeFrame(GuestFrame.stdout, 7, Buffer.from('abc')), encodeFrame(GuestFrame.exit, 7, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]))]);
    const frames = [];
    for (let i = 0; i < stream.length; i += 3) frames.push(...r.push(stream.subarray(i, i + 3)));
    expect(frames.map((f) => f.type)).toEqual([GuestFrame.hello, GuestFrame.stdout, GuestFrame.exit]);
    expect(decodeHello(frames[0]?.payload ?? Buffer.alloc(0))).toEqual({ protocol: 1, idleSec: 600, version: '0.1.0' });
    expect(frames[1]?.payload.toString()).toBe('abc');
    expect(decodeExit(frames[2]?.payload ?? Buffer.alloc(0))).toEqual({ code: 0, signal: 0 });
  });

  it('after HELLO a length out of range is a protocol error, and a killed process has no exit code', () => {
    const r = new AgentFrameReader();
    r.push(hello());
    const bad = Buffer.alloc(9);
    bad.writeUInt32LE(3, 0);
    expect(() => r.push(bad)).toThrow(/out of range/);
    const killed = Buffer.alloc(8);
    killed.writeInt32LE(-1, 0);
    killed.writeInt32LE(9, 4);
    expect(decodeExit(killed)).toEqual({ code: null, signal: 9 });
  });
});
