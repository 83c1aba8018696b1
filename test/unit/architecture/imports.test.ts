// No import circles in the product's TypeScript, at file level or at folder level
// (docs/architecture.md: core/<x>, cli, extension, webview). A circle is reported with
// every member and one concrete path; a folder circle also names the file imports
// behind each of its edges, which are the lines to change.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  folderGraph,
  importCircles,
  importGraph,
  isTypeScriptSource,
  listFiles,
  PRODUCT_TS_DIRS,
  type ImportCircle,
} from '../../support/architecture';

function describeCircles(circles: ImportCircle[], because?: Map<string, string[]>): string {
  return circles
    .map((c) => {
      const lines = [`circle: ${c.example.join(' → ')}`, `  members: ${c.members.join(', ')}`];
      if (because) {
        // every folder edge inside the circle, not only the example's: any of them may be the one to cut
        const members = new Set(c.members);
        for (const [edge, imports] of because) {
          const [from, to] = edge.split(' → ');
          if (members.has(from!) && members.has(to!)) lines.push(`  ${edge} because:`, ...imports.map((imp) => `    ${imp}`));
        }
      }
      return lines.join('\n');
    })
    .join('\n');
}

describe('import circles', () => {
  const files = importGraph(listFiles(PRODUCT_TS_DIRS, isTypeScriptSource));

  it('reads the whole product (core, cli, extension, webview)', () => {
    const folders = new Set([...files.keys()].map((f) => f.split('/')[0]));
    expect([...folders].sort()).toEqual(['cli', 'core', 'extension', 'webview']);
    expect(files.size).toBeGreaterThan(100);
  });

  it('no file imports itself back through other files', () => {
    expect(describeCircles(importCircles(files))).toBe('');
  });

  it('no folder imports itself back through other folders', () => {
    const { graph, because } = folderGraph(files);
    expect(describeCircles(importCircles(graph), because)).toBe('');
  });
});

describe('the circle finder', () => {
  it('finds a circle made of a type-only import and a re-export, at both levels', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-imports-'));
    try {
      const write = (rel: string, text: string): void => {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), text);
      };
      write('core/a/one.ts', "import type { Two } from '../b/two';\nexport interface One { two?: Two }\n");
      write('core/b/two.ts', "export { three } from './three';\nexport interface Two { n: number }\n");
      write('core/b/three.ts', "import { one } from '../a/index';\nexport const three = one;\n");
      write('core/a/index.ts', "export const one = 1;\n");
      write('core/c/alone.ts', "import { one } from '../a';\nexport const alone = one;\n");
      const graph = importGraph(listFiles(['core'], isTypeScriptSource, root), root);
      expect(importCircles(graph)).toEqual([]);
      write('core/a/index.ts', "import type { One } from './one';\nexport const one = 1;\nexport type { One };\n");
      const circular = importGraph(listFiles(['core'], isTypeScriptSource, root), root);
      const [fileCircle, ...moreFiles] = importCircles(circular);
      expect(moreFiles).toEqual([]);
      expect(fileCircle!.members).toEqual(['core/a/index.ts', 'core/a/one.ts', 'core/b/three.ts', 'core/b/two.ts']);
      expect(fileCircle!.example).toEqual(['core/a/index.ts', 'core/a/one.ts', 'core/b/two.ts', 'core/b/three.ts', 'core/a/index.ts']);
      const { graph: folders, because } = folderGraph(circular);
      expect(importCircles(folders)).toEqual([{ members: ['core/a', 'core/b'], example: ['core/a', 'core/b', 'core/a'] }]);
      expect(because.get('core/b → core/a')).toEqual(['core/b/three.ts → core/a/index.ts']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
