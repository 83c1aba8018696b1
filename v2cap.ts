import fs from 'node:fs';
import { verifyProgram } from './core/run/verify';
const [v] = await verifyProgram(`test/fixtures/verifier/unbounded_loop.bpf.c`, {logLevel: 1});
fs.writeFileSync('test/fixtures/verifier/logs/6.18/unbounded_loop_level1.log', v!.programs[0]!.log!);
console.log(v!.programs[0]!.logLevel, v!.programs[0]!.error?.category);
