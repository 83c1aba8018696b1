import { verifyProgram, toVerifyJson } from './core/run/verify';
for (const n of process.argv.slice(2)) {
  const t0 = Date.now();
  const [v] = await verifyProgram(`test/fixtures/verifier/${n}.bpf.c`, {});
  console.log(n, Date.now() - t0, 'ms', v?.failure?.message ?? '', JSON.stringify(toVerifyJson(v!)));
  for (const p of v!.programs) console.log('  ', p.name, p.logLevel, p.log?.length, p.explanation?.heatComplete, p.explanation?.heat.slice(0, 3), p.explanation?.path.length, v!.warnings);
}
