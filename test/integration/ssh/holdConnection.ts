// Child process for the client-kill test: connects over SSH, loads and starts a
// program through the helper, prints "attached" and then just holds the connection
// until it is killed. Args: <json SshConnectOptions subset> <spec> <object path>.
import fs from 'node:fs';
import { connectSshTarget } from '../../../core/transport/ssh/index';
import type { SshConnectOptions } from '../../../core/transport/ssh/index';
import { HelperStream } from './sshStream';

async function main(): Promise<void> {
  const [optsJson = '{}', spec = '', objectPath = ''] = process.argv.slice(2);
  const opts = JSON.parse(optsJson) as SshConnectOptions;
  const target = await connectSshTarget(spec, opts);
  const proc = await target.spawnHelper(['serve']);
  const stream = new HelperStream(proc, spec);
  await stream.loadAndStart(new Uint8Array(fs.readFileSync(objectPath)));
  process.stdout.write('attached\n');
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`holdConnection: ${String(err)}\n`);
  process.exit(1);
});
