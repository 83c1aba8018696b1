// The --version handshake, on real files and real processes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHelperVersion } from '../../../core/transport/local';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-local-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function script(rel: string, body: string): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

describe('checkHelperVersion', () => {
  it('accepts protocol 1', async () => {
    expect(await checkHelperVersion(script('v1', 'echo "ringbuf-helper 0.1.0 protocol 1"'))).toEqual({ helper: '0.1.0', protocol: 1 });
  });
  it('refuses another protocol, naming both versions', async () => {
    await expect(checkHelperVersion(script('v2', 'echo "ringbuf-helper 0.2.0 protocol 2"'))).rejects.toThrow(/speaks protocol 2, this Ringbuf Studio speaks 1/);
  });
  it('refuses something that is not a helper, and one that does not run', async () => {
    await expect(checkHelperVersion(script('other', 'echo "hello"'))).rejects.toThrow(/is not a ringbuf-helper/);
    await expect(checkHelperVersion(script('broken', 'echo boom >&2; exit 3'))).rejects.toThrow(/does not run: boom/);
  });
});
