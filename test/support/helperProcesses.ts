// Ringbuf helpers started under a process (code-server for local runs, sshd for SSH runs)
// and the BPF programs they hold: ours, even when other tests load the same program.
import fs from 'node:fs';

/** pid → [parent pid, comm] for every process now (one that exits meanwhile is left out). */
function processTable(): Map<number, { parent: number; comm: string }> {
  const table = new Map<number, { parent: number; comm: string }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      table.set(Number(entry), { comm: stat.slice(stat.indexOf('(') + 1, close), parent: Number(stat.slice(close + 2).split(' ')[1]) });
    } catch {
      // exited meanwhile: not running, so not ours to count
    }
  }
  return table;
}

/** Pids of ringbuf helpers anywhere below `rootPid`. */
export function helperPidsUnder(rootPid: number): number[] {
  const table = processTable();
  const under = (pid: number): boolean => {
    for (let p = table.get(pid)?.parent, hops = 0; p !== undefined && p > 1 && hops < 64; p = table.get(p)?.parent, hops++) if (p === rootPid) return true;
    return false;
  };
  return [...table].filter(([pid, { comm }]) => comm.startsWith('ringbuf-helper') && under(pid)).map(([pid]) => pid);
}

/** BPF program ids held open by ringbuf helpers below `rootPid`. */
export function helperProgramIds(rootPid: number): number[] {
  const ids = new Set<number>();
  for (const pid of helperPidsUnder(rootPid)) {
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
        const m = /^prog_id:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
        if (m) ids.add(Number(m[1]));
      }
    } catch {
      // the helper exited meanwhile: it holds nothing
    }
  }
  return [...ids];
}
