// The --version handshake, on real files and real processes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHelperVersion } from '../../../core/transport/local';
import { PROTOCOL_VERSION } from '../../../core/protocol/helper';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-local-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function script(rel: string, body: string): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

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
