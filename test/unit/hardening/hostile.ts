// Hostile names shared by the unit (lint/build) and integration (run) tests.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../support/compile';

export const HOSTILE_PARTS = ["sp ace", "q'uote", 'd"q', '$(touch PWNED)', '`touch PWNED`', 'semi;touch PWNED', 'new\nline', '-dash', '*glob?'];

/** A directory whose name holds every hostile part, with a ring buffer program (a 1000-byte ring → RB002). */
export function hostileProgram(root: string): { dir: string; file: string } {
  const dir = path.join(root, HOSTILE_PARTS.join(' '));
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `prog ${HOSTILE_PARTS[1]}$(id);.bpf.c`);
  const src = fs.readFileSync(path.join(repoRoot, 'test/fixtures/run/seed_exec.bpf.c'), 'utf8').replace('256 * 1024', '1000');
  fs.writeFileSync(file, src);
  return { dir, file };
}
