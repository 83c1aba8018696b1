// Static guards for two rules that no single behaviour test can prove everywhere:
// - the helper never executes anything: no exec*/system/popen/fork/dlopen in helper/src
//   (its only inputs are protocol frames; the behaviour test sending every other frame
//   kind is test/integration/hardening/helper.test.ts);
// - TypeScript starts processes only with argv arrays: no `shell: true`, no exec/execSync
//   (which run a shell string) anywhere in core/, cli/ or extension/. Remote commands go
//   through core/transport/ssh/quote.ts (tested in test/unit/transport/ssh/quote.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/compile';

function sources(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(p);
      else if (ext.test(e.name)) out.push(p);
    }
  };
  walk(path.join(repoRoot, dir));
  return out;
}

/** Source without comments and string literals, so words in them do not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/"(?:\\.|[^"\\\n])*"/g, '""');
}

describe('no process is started from untrusted input', () => {
  it('helper/src calls no exec*, system, popen, fork, posix_spawn or dlopen', () => {
    const files = sources('helper/src', /\.[ch]$/);
    expect(files.length).toBeGreaterThan(5);
    const banned = /\b(exec[lv]p?e?|execve(at)?|fexecve|system|popen|fork|vfork|clone|posix_spawnp?|dlopen)\s*\(/;
    const hits = files.flatMap((f) => code(fs.readFileSync(f, 'utf8')).split('\n').filter((l) => banned.test(l)).map((l) => `${path.relative(repoRoot, f)}: ${l.trim()}`));
    expect(hits).toEqual([]);
  });

  it('core/, cli/ and extension/ spawn with argv arrays only (no shell: true, no exec/execSync)', () => {
    const files = ['core', 'cli', 'extension'].flatMap((d) => sources(d, /\.ts$/));
    expect(files.length).toBeGreaterThan(20);
    const hits: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const imports = /import\s*\{([^}]*)\}\s*from\s*'node:child_process'/.exec(text)?.[1] ?? '';
      if (/\b(exec|execSync)\b(?!File)/.test(imports)) hits.push(`${path.relative(repoRoot, f)}: imports a shell-string API (${imports.trim()})`);
      if (/shell\s*:\s*true/.test(code(text))) hits.push(`${path.relative(repoRoot, f)}: shell: true`);
    }
    expect(hits).toEqual([]);
  });
});
