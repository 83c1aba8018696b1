import { verifyProgram } from './core/run/verify';
const [v] = await verifyProgram(`test/fixtures/verifier/unbounded_loop.bpf.c`, {logLevel: Number(process.argv[2]) as 1|2});
const p = v!.programs[0]!;
console.log(p.logLevel, p.error, p.log?.slice(-1500));
