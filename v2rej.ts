import path from 'node:path';
import { encodeLoad } from './core/protocol/helper';
import { compileFixture } from './test/support/compile';
import { HelperRun } from './test/integration/helper/support';
const { bytes } = await compileFixture(path.resolve('test/fixtures/verifier/null_check.bpf.c'), { name: 'null_check' });
const run = HelperRun.start();
run.send(encodeLoad({ object: bytes, attachAll: true, attach: [], overrides: {}, verifierLevel: 0 }));
await run.exited;
for (const x of run.messages) if (x.kind === 'error') console.log(JSON.stringify(x.error));
