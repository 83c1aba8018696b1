// Helper discovery order and the --version handshake, on real files and real processes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHelperVersion, findHelperBinary } from '../../../core/transport/local';
import { PROTOCOL_VERSION } from '../../../core/protocol/helper';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-local-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function script(rel: string, body: string): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

describe('findHelperBinary', () => {
  it('prefers dist/helper over helper/build, and an explicit path over both', () => {
    const built = script('a/helper/build/ringbuf-helper-x86_64', 'echo');
    expect(findHelperBinary('x86_64', { roots: [path.join(tmp, 'a')] })).toBe(built);
    const bundled = script('a/dist/helper/ringbuf-helper-x86_64', 'echo');
    expect(findHelperBinary('x86_64', { roots: [path.join(tmp, 'a')] })).toBe(bundled);
    expect(findHelperBinary('x86_64', { roots: [path.join(tmp, 'a')], helperPath: built })).toBe(built);
  });

  it('says how to build it when there is none, and names a missing explicit path', () => {
    expect(() => findHelperBinary('aarch64', { roots: [path.join(tmp, 'a')] })).toThrow(/no ringbuf-helper-aarch64 found/);
    try {
      findHelperBinary('x86_64', { roots: [path.join(tmp, 'none')] });
    } catch (err) {
      expect((err as { hint?: string }).hint).toMatch(/npm run build:helper/);
    }
    expect(() => findHelperBinary('x86_64', { helperPath: path.join(tmp, 'missing') })).toThrow(/does not exist/);
  });
});

describe('checkHelperVersion', () => {
  it(`accepts protocol ${PROTOCOL_VERSION}`, async () => {
    expect(await checkHelperVersion(script('v-now', `echo "ringbuf-helper 0.1.0 protocol ${PROTOCOL_VERSION}"`))).toEqual({ helper: '0.1.0', protocol: PROTOCOL_VERSION });
  });
  it('refuses another protocol, naming both versions', async () => {
    await expect(checkHelperVersion(script('v-old', 'echo "ringbuf-helper 0.0.9 protocol 1"'))).rejects.toThrow(new RegExp(`speaks protocol 1, this Ringbuf Studio speaks ${PROTOCOL_VERSION}`));
  });
  it('refuses something that is not a helper, and one that does not run', async () => {
    await expect(checkHelperVersion(script('other', 'echo "hello"'))).rejects.toThrow(/is not a ringbuf-helper/);
    await expect(checkHelperVersion(script('broken', 'echo boom >&2; exit 3'))).rejects.toThrow(/does not run: boom/);
  });
});
