// Checks a parsed .rbtest.yaml against the JSON Schema we ship (schemas/rbtest.schema.json,
// also what editors use through contributes.yamlValidation) and turns the validator's
// findings into diagnostics at the offending key or value, in words a user can act on.
import Ajv, { type ErrorObject } from 'ajv';
import schema from '../../schemas/rbtest.schema.json';
import type { Diagnostic, SourceRange } from '../diagnostics';
import type { YamlPath, YamlSource } from './yamlSource';

export const RBTEST_SCHEMA: unknown = schema;

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let compiled: Validator | undefined;

function validator(): Validator {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
    // Annotations the YAML language server reads (custom messages, markdown help).
    ajv.addVocabulary(['errorMessage', 'markdownDescription']);
    compiled = ajv.compile(schema) as Validator;
  }
  return compiled;
}

interface SchemaNode {
  errorMessage?: string;
  properties?: Record<string, unknown>;
}

/** Schema problems of `data` (the YAML as plain values), at their places in `src`. */
export function schemaDiagnostics(data: unknown, src: YamlSource, file: string): Diagnostic[] {
  const validate = validator();
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of relevantErrors(errors)) {
    const path = pathOf(e.instancePath);
    const { message, range } = describe(e, path, src);
    const key = `${range.line}:${range.column}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file, ...range, severity: 'error', code: 'rbtest-schema', message, source: 'livetest' });
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * Keeps one error per cause: a failed `oneOf`/`anyOf` stands for its branches' errors
 * (the branches say "must be integer" and "must match pattern" for one wrong count).
 */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const combinators = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  return errors.filter((e) => {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') return true;
    return !combinators.some((c) => c.instancePath === e.instancePath && e.schemaPath.startsWith(`${c.schemaPath}/`));
  });
}

function pathOf(instancePath: string): YamlPath {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** "test 2 (exec of true)", "expectation 1 of test 2", "`count`" — where a problem is, in words. */
function placeOf(path: YamlPath, src: YamlSource): string {
  const [top, index, inner, innerIndex, leaf] = path;
  if (top === 'tests' && typeof index === 'number') {
    const name = src.nodeAt(['tests', index, 'name']);
    const label = `test ${index + 1}${name && 'value' in name && typeof name.value === 'string' ? ` (${name.value})` : ''}`;
    if (inner === 'expect' && typeof innerIndex === 'number') return `expectation ${innerIndex + 1} of ${label}${leaf !== undefined ? `, \`${String(leaf)}\`` : ''}`;
    return inner !== undefined ? `${label}, \`${String(inner)}\`` : label;
  }
  if ((top === 'setup' || top === 'teardown') && typeof index === 'number') {
    return `${top} command ${index + 1}${inner !== undefined ? `, \`${String(inner)}\`` : ''}`;
  }
  if (path.length === 0) return 'the file';
  return `\`${path.map(String).join('.')}\``;
}

function describe(e: ErrorObject, path: YamlPath, src: YamlSource): { message: string; range: SourceRange } {
  const parent = (e.parentSchema ?? {}) as SchemaNode;
  const hint = parent.errorMessage;
  const leaf = path[path.length - 1];
  // "`count` is N, …" already names the key: do not name it twice.
  const place = placeOf(hint && leaf !== undefined && hint.startsWith(`\`${String(leaf)}\``) ? path.slice(0, -1) : path, src);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys(parent.properties ?? {});
      const close = known.find((k) => editDistance(k, key) <= 2);
      const where = path.length ? ` in ${place}` : '';
      return {
        message: `unknown key \`${key}\`${where}${close ? ` — did you mean \`${close}\`?` : ''} (known: ${known.join(', ')})`,
        range: src.keyRange([...path, key]),
      };
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      return { message: `${place} lacks \`${key}\`${hint ? `: ${hint}` : ''}`, range: src.firstLineOf(src.nodeAt(path)) };
    }
    case 'oneOf': {
      const choice = exclusiveKeys(e);
      if (choice) {
        const present = choice.filter((k) => typeof e.data === 'object' && e.data !== null && k in e.data);
        const what = present.length ? `has both ${present.map((k) => `\`${k}\``).join(' and ')}: keep one` : `has none of ${choice.map((k) => `\`${k}\``).join(', ')}`;
        return { message: `${place} ${what}${hint ? ` (${hint})` : ''}`, range: src.firstLineOf(src.nodeAt(path)) };
      }
      return { message: `${place}: ${hint ?? e.message ?? 'is not valid'}`, range: rangeForValue(path, src) };
    }
    default:
      return { message: `${place}: ${hint ?? e.message ?? 'is not valid'}${valueText(e.data)}`, range: rangeForValue(path, src) };
  }
}

/** For `oneOf: [{required: [a]}, {required: [b]}]`: [a, b] (a choice of exactly one key). */
function exclusiveKeys(e: ErrorObject): string[] | undefined {
  const branches = e.schema as Array<{ required?: string[] }> | undefined;
  if (!Array.isArray(branches)) return undefined;
  const keys = branches.map((b) => (b.required?.length === 1 && Object.keys(b).length === 1 ? b.required[0] : undefined));
  return keys.every((k): k is string => k !== undefined) ? keys : undefined;
}

/** A map's problem points at its first line; a scalar's at the `key: value` entry. */
function rangeForValue(path: YamlPath, src: YamlSource): SourceRange {
  const node = src.nodeAt(path);
  if (node && 'items' in node) return src.firstLineOf(node);
  return typeof path[path.length - 1] === 'string' ? src.entryRange(path) : src.firstLineOf(node);
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return ' (got nothing)';
  if (typeof v === 'object') return '';
  const s = JSON.stringify(v);
  return ` (got ${s.length > 40 ? `${s.slice(0, 40)}…` : s})`;
}

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] ?? 0;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = d[j] ?? 0;
      d[j] = Math.min((d[j] ?? 0) + 1, (d[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return d[b.length] ?? 0;
}
