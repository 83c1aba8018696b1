// Reading the fields of untrusted JSON-shaped values, for both typed boundaries: the
// helper's JSON payloads (helper.ts) and the webview's messages (panel.ts). Every read
// checks the type and the bounds, and a failure names the path to the field and what
// was expected — `LOADED.maps[].name: expected a string` — in the error its boundary throws.

export type Fields = Record<string, unknown>;

export interface NumberRule {
  /** Smallest value accepted; none by default. */
  min?: number;
  /** Whole numbers only. */
  int?: boolean;
}

export interface FieldReaderOptions {
  /** The error the boundary throws for a message (ProtocolError, PanelMessageError). */
  fail: (message: string) => Error;
  /** Also treat `null` as an absent optional field (the helper's C JSON writer says null). */
  nullIsAbsent?: boolean;
  /** What `num` accepts where a call does not say; any finite number by default. */
  numbers?: NumberRule;
  /** Longest string accepted when a call does not say; unbounded by default. */
  maxString?: number;
}

/** The most entries an array may have when a call does not say. */
const MAX_ENTRIES = 10_000_000;

export function fieldReader(options: FieldReaderOptions) {
  const { fail } = options;
  const absent = (v: unknown): boolean => v === undefined || (options.nullIsAbsent === true && v === null);
  const obj = (v: unknown, what: string): Fields => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail(`${what}: expected an object`);
    return v as Fields;
  };
  const str = (o: Fields, k: string, what: string, max = options.maxString ?? Infinity): string => {
    const v = o[k];
    if (typeof v !== 'string') throw fail(`${what}.${k}: expected a string`);
    if (v.length > max) throw fail(`${what}.${k}: longer than ${max} characters`);
    return v;
  };
  /** `rule` overrides the reader's `numbers` default field by field. */
  const num = (o: Fields, k: string, what: string, rule: NumberRule = {}): number => {
    const v = o[k];
    const { min = -Infinity, int = false } = { ...options.numbers, ...rule };
    if (typeof v !== 'number' || !Number.isFinite(v) || (int && !Number.isInteger(v)) || v < min) {
      throw fail(`${what}.${k}: expected ${int ? 'an integer' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}`);
    }
    return v;
  };
  const bool = (o: Fields, k: string, what: string): boolean => {
    const v = o[k];
    if (typeof v !== 'boolean') throw fail(`${what}.${k}: expected true or false`);
    return v;
  };
  const arr = (o: Fields, k: string, what: string, max = MAX_ENTRIES): unknown[] => {
    const v = o[k];
    if (!Array.isArray(v)) throw fail(`${what}.${k}: expected an array`);
    if (v.length > max) throw fail(`${what}.${k}: more than ${max} entries`);
    return v;
  };
  const oneOf = <T extends string>(o: Fields, k: string, allowed: readonly T[], what: string): T => {
    const v = o[k];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw fail(`${what}.${k}: expected one of ${allowed.join(', ')}`);
    return v as T;
  };
  return {
    obj,
    str,
    num,
    bool,
    arr,
    oneOf,
    optStr: (o: Fields, k: string, what: string): string | undefined => (absent(o[k]) ? undefined : str(o, k, what)),
    optNum: (o: Fields, k: string, what: string): number | undefined => (absent(o[k]) ? undefined : num(o, k, what)),
    optBool: (o: Fields, k: string, what: string): boolean | undefined => (absent(o[k]) ? undefined : bool(o, k, what)),
    /** An absent array reads as empty. */
    optArr: (o: Fields, k: string, what: string): unknown[] => (absent(o[k]) ? [] : arr(o, k, what)),
    /** Strings of at most `maxLength` characters, at most `max` of them. */
    strList: (o: Fields, k: string, what: string, max = 1000, maxLength = 1024): string[] =>
      arr(o, k, what, max).map((x, i) => {
        if (typeof x !== 'string' || x.length > maxLength) throw fail(`${what}.${k}[${i}]: expected a short string`);
        return x;
      }),
  };
}
