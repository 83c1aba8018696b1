import { verifyProgram } from './core/run/verify';
const t0 = Date.now();
const vs = await verifyProgram(`test/fixtures/verifier/every_category.bpf.c`, { targets: process.argv.slice(2).length ? process.argv.slice(2) : ['local'] });
console.log(Date.now() - t0, 'ms');
for (const v of vs) {
  console.log(v.target, v.kernel, v.failure?.message, v.warnings);
  for (const p of v.programs) console.log('  ', p.name, p.loaded, p.error?.category, p.error?.at.line, p.error?.message, p.error?.culprit?.value, p.insnsProcessed, p.logLevel);
}
