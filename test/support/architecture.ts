// Structure checks over the product's own source (test/unit/architecture): the import
// graph at file and folder level, and function lengths in TypeScript and C. Reads files
// as they are in the checkout; needs nothing but the project's TypeScript.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const REPO_ROOT = path.resolve(__dirname, '../..');

/** The product's TypeScript: what ships in the extension, the CLI and the webview bundle. */
export const PRODUCT_TS_DIRS = ['core', 'cli', 'extension', 'webview/src'];
export const PRODUCT_C_DIRS = ['helper/src'];

const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'out', 'build']);

/** Repo-relative paths (forward slashes) of the files under `dirs` whose name passes `keep`. */
export function listFiles(dirs: readonly string[], keep: (name: string) => boolean, root = REPO_ROOT): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) walk(child);
      } else if (keep(e.name)) {
        out.push(child);
      }
    }
  };
  for (const d of dirs) walk(d);
  return out.sort();
}

export const isTypeScriptSource = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.d.ts');

// ── imports ─────────────────────────────────────────────────────────────────────

/** file → the files it imports (relative imports that resolve to a file of the graph). */
export type ImportGraph = Map<string, Set<string>>;

/**
 * Every relative import, re-export, `import type` and dynamic `import()` of the files,
 * resolved the way the bundler does (`x` → `x.ts` or `x/index.ts`). Imports of packages
 * and of files outside the set are not edges.
 */
export function importGraph(files: readonly string[], root = REPO_ROOT): ImportGraph {
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const edges = new Set<string>();
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolveImport(file, ref.fileName, known);
      if (target !== undefined && target !== file) edges.add(target);
    }
    graph.set(file, edges);
  }
  return graph;
}

function resolveImport(from: string, spec: string, known: ReadonlySet<string>): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const stem = base.replace(/\.(js|ts)$/, '');
  return [`${stem}.ts`, `${stem}/index.ts`].find((candidate) => known.has(candidate));
}

/**
 * The module a file belongs to for the folder-level check: `core/<x>` for files in a
 * core folder, the file itself for a file directly in core/ (`core/diagnostics`), and
 * the top folder for the faces (`cli`, `extension`, `webview`).
 */
export function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'core') return parts.length > 2 ? `core/${parts[1]}` : `core/${parts[1]!.replace(/\.ts$/, '')}`;
  return parts[0]!;
}

/** The folder graph, with the file imports behind each folder edge (for the report). */
export function folderGraph(files: ImportGraph): { graph: ImportGraph; because: Map<string, string[]> } {
  const graph: ImportGraph = new Map();
  const because = new Map<string, string[]>();
  for (const [from, targets] of files) {
    const a = folderOf(from);
    if (!graph.has(a)) graph.set(a, new Set());
    for (const to of targets) {
      const b = folderOf(to);
      if (a === b) continue;
      graph.get(a)!.add(b);
      const key = `${a} → ${b}`;
      const list = because.get(key) ?? [];
      list.push(`${from} → ${to}`);
      because.set(key, list);
    }
  }
  return { graph, because };
}

export interface ImportCircle {
  /** Every node of the strongly connected component, sorted. */
  members: string[];
  /** One shortest circle through the component, first node repeated at the end. */
  example: string[];
}

/** The import circles: one entry per strongly connected component with more than one node. */
export function importCircles(graph: ImportGraph): ImportCircle[] {
  return stronglyConnected(graph)
    .filter((c) => c.length > 1)
    .map((members) => {
      const sorted = [...members].sort();
      return { members: sorted, example: shortestCircle(graph, sorted[0]!, new Set(sorted)) };
    })
    .sort((a, b) => a.members[0]!.localeCompare(b.members[0]!));
}

/** Tarjan's algorithm, iterative (the graph has hundreds of nodes; recursion is fine but this is not deeper). */
function stronglyConnected(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** Breadth-first from `start` back to itself, staying inside the component. */
function shortestCircle(graph: ImportGraph, start: string, within: ReadonlySet<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v) ?? []) {
      if (!within.has(w)) continue;
      if (w === start) {
        const pathBack = [v];
        while (pathBack[0] !== start) pathBack.unshift(cameFrom.get(pathBack[0]!)!);
        return [...pathBack, start];
      }
      if (!cameFrom.has(w) && w !== start) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

// ── function lengths ────────────────────────────────────────────────────────────

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

/**
 * Functions, methods, constructors, accessors, arrow functions and function expressions
 * with a body longer than `limit` lines, counted from the first line of the declaration
 * to its last (the same measure as /work/shared/tools/long-functions.js).
 */
export function longTypeScriptFunctions(files: readonly string[], limit: number, root = REPO_ROOT): LongFunction[] {
  const out: LongFunction[] = [];
  for (const file of files) {
    const sf = ts.createSourceFile(file, fs.readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      if (isFunctionWithBody(n)) {
        const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
        const last = sf.getLineAndCharacterOfPosition(n.end).line + 1;
        if (last - first + 1 > limit) out.push({ file, line: first, name: functionName(n, sf), lines: last - first + 1 });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out.sort((a, b) => b.lines - a.lines);
}

function isFunctionWithBody(n: ts.Node): n is ts.FunctionLikeDeclaration {
  return (
    (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n)
      || ts.isConstructorDeclaration(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n))
    && n.body !== undefined
  );
}

function functionName(n: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  if (n.name) return n.name.getText(sf);
  if (ts.isConstructorDeclaration(n)) return 'constructor';
  const parent = n.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) {
    return parent.name.getText(sf);
  }
  return '<anonymous>';
}

/**
 * C function definitions longer than `limit` lines, from the line of the function's
 * name to its closing brace (the measure Universal Ctags' `end:` gives). A small
 * scanner, enough for our own C: comments, strings, character literals and
 * preprocessor lines are skipped; a top-level `{` right after a `)` opens a function.
 */
export function longCFunctions(files: readonly string[], limit: number, root = REPO_ROOT): LongFunction[] {
  const out: LongFunction[] = [];
  for (const file of files) {
    for (const f of cFunctions(fs.readFileSync(path.join(root, file), 'utf8'))) {
      if (f.lines > limit) out.push({ file, ...f });
    }
  }
  return out.sort((a, b) => b.lines - a.lines);
}

export function cFunctions(text: string): Array<{ name: string; line: number; lines: number }> {
  const code = blankNonCode(text);
  const lineAt = lineIndex(text);
  const out: Array<{ name: string; line: number; lines: number }> = [];
  let depth = 0;
  let parens = 0;
  let candidate: { name: string; at: number } | undefined;
  let lastSignificant = '';
  let open: { name: string; at: number } | undefined;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (/\s/.test(c)) continue;
    if (depth === 0) {
      if (c === '(' && parens === 0 && candidate === undefined) {
        const from = Math.max(0, i - 200);
        const m = /([A-Za-z_]\w*)\s*$/.exec(code.slice(from, i));
        if (m && m[1] !== '__attribute__') candidate = { name: m[1]!, at: from + m.index };
      }
      if (c === '(') parens++;
      else if (c === ')') parens--;
      else if ((c === ';' || c === '}') && parens === 0) candidate = undefined;
      else if (c === '{' && parens === 0) {
        if (lastSignificant === ')' && candidate) open = candidate;
        candidate = undefined;
      }
    }
    if (c === '{' && parens === 0) depth++;
    else if (c === '}' && parens === 0) {
      depth--;
      if (depth === 0 && open) {
        const first = lineAt(open.at);
        out.push({ name: open.name, line: first, lines: lineAt(i) - first + 1 });
        open = undefined;
      }
    }
    lastSignificant = c;
  }
  return out;
}

/** The text with comments, string and character literals and preprocessor lines replaced by spaces (newlines kept). */
function blankNonCode(text: string): string {
  const out = text.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let lineStart = true;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (lineStart && c === '#') {
      let end = i;
      while (end < text.length && !(text[end] === '\n' && text[end - 1] !== '\\')) end++;
      blank(i, end);
      i = end;
      continue;
    }
    if (c === '\n') lineStart = true;
    else if (c !== ' ' && c !== '\t') lineStart = false;
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && text[i + 1] === '/') {
      let end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
      blank(i, end);
      i = end;
    } else if (c === '"' || c === "'") {
      let end = i + 1;
      while (end < text.length && text[end] !== c && text[end] !== '\n') end += text[end] === '\\' ? 2 : 1;
      blank(i, end + 1);
      i = end + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
