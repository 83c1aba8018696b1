import { parseVerifierLog, errorSummary } from './core/verifier/log';
const log = `0: R1=ctx() R10=fp0
; while (!x) @ a.bpf.c:18
6: (61) r3 = *(u32 *)(r2 +0)          ; R3=scalar()
7: (15) if r3 == 0x0 goto pc-2 infinite loop detected at insn 6
cur state: R1=1 R3=0 R10=fp0
old state: R1=1 R3=0 R10=fp0
processed 20 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 0
`;
const p = parseVerifierLog(log);
console.log(p.error, p.path.map(s=>s.text));
