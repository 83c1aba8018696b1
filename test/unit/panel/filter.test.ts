// The filter language a user types into the Live Events panel.
import { describe, expect, it } from 'vitest';
import { FilterError, compileFilter, tryCompileFilter } from '../../../core/panel/filter';
import type { FilterValue } from '../../../core/panel/filter';

const bash = { comm: 'bash', pid: 4242, ok: true, kind: 'EXEC_ENTER', big: '18446744073709551600', neg: -2, 'ids.uid': 0, name: 'sshd: root' };
const ssh = { comm: 'sshd', pid: 7, ok: false, kind: 'EXEC_EXIT', big: 5, neg: 3, 'ids.uid': 1000, name: '' };
const known = [...Object.keys(bash), '$host', '$map', '$time'];

function matches(src: string, ev: Record<string, FilterValue>): boolean {
  const f = compileFilter(src, known);
  if (!f) return true;
  return f.test((name) => (name === '$host' ? 'local' : ev[name]));
}

describe('filter: valid expressions', () => {
  it('compares strings and numbers and combines with && / ||', () => {
    expect(matches('comm == "bash" && pid > 100', bash)).toBe(true);
    expect(matches('comm == "bash" && pid > 100', ssh)).toBe(false);
    expect(matches('comm == "bash" || pid < 10', ssh)).toBe(true);
    expect(matches("comm != 'bash'", ssh)).toBe(true);
    expect(matches('pid >= 4242 && pid <= 4242', bash)).toBe(true);
    expect(matches('neg < 0', bash)).toBe(true);
    expect(matches('neg == -2', bash)).toBe(true);
    expect(matches('pid == 0x1092', bash)).toBe(true);
  });

  it('~ is a regular expression search, so a plain word is a substring match', () => {
    expect(matches('comm ~ "ssh"', ssh)).toBe(true);
    expect(matches('comm ~ "ssh"', bash)).toBe(false);
    expect(matches('comm ~ "^ba"', bash)).toBe(true);
    expect(matches('comm !~ "ssh"', bash)).toBe(true);
    expect(matches('name ~ "sshd: r.*"', bash)).toBe(true);
  });

  it('gives ! and && precedence over || and honours parentheses', () => {
    // && binds tighter: true || (false && false) → true
    expect(matches('pid == 4242 || comm == "x" && pid == 1', bash)).toBe(true);
    expect(matches('(pid == 4242 || comm == "x") && pid == 1', bash)).toBe(false);
    expect(matches('!comm == "bash"', bash)).toBe(false);
    expect(matches('!(comm == "sshd") && !ok == false', bash)).toBe(true);
    expect(matches('!!ok', bash)).toBe(true);
  });

  it('tests enums by name, 64-bit values exactly, bools and pseudo-fields', () => {
    expect(matches('kind == "EXEC_ENTER"', bash)).toBe(true);
    expect(matches('big == "18446744073709551600"', bash)).toBe(true);
    expect(matches('big > 18446744073709551599', bash)).toBe(true);
    expect(matches('big > 18446744073709551600', bash)).toBe(false);
    expect(matches('ok', bash)).toBe(true);
    expect(matches('ok == true', ssh)).toBe(false);
    expect(matches('ids.uid == 1000', ssh)).toBe(true);
    expect(matches('$host == "local"', ssh)).toBe(true);
  });

  it('treats a missing field as no match', () => {
    const f = compileFilter('pid > 1')!;
    expect(f.test(() => undefined)).toBe(false);
    expect(f.fields).toEqual(['pid']);
  });

  it('a caller can add pseudo-fields (live tests add $trigger); others still get the list', () => {
    expect(() => compileFilter('$trigger && comm == "true"', known)).toThrow(/unknown field '\$trigger' at 1 \(pseudo-fields: \$host, \$map, \$time, \$raw\)/);
    const f = compileFilter('$trigger && comm == "bash"', known, { pseudoFields: ['$trigger'] });
    expect(f?.fields).toContain('$trigger');
    expect(f?.test((n) => (n === '$trigger' ? true : (bash as Record<string, FilterValue>)[n]))).toBe(true);
    expect(f?.test((n) => (n === '$trigger' ? false : (bash as Record<string, FilterValue>)[n]))).toBe(false);
    expect(() => compileFilter('$trig', known, { pseudoFields: ['$trigger'] })).toThrow(/pseudo-fields: \$host, \$map, \$time, \$raw, \$trigger/);
  });

  it('an empty filter is no filter', () => {
    expect(compileFilter('   ')).toBeNull();
  });
});

describe('filter: errors name the position', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['comm = "bash"', 5, /use '=='/],
    ['comm == "bash', 8, /unterminated string/],
    ['pid > ', 6, /incomplete filter/],
    ['(pid > 1', 8, /missing '\)'/],
    ['pid > 1 pid', 8, /unexpected 'pid'/],
    ['comm ~ "("', 7, /invalid regular expression/],
    ['commm == "x"', 0, /unknown field 'commm'/],
    ['pid & 1', 4, /use '&&'/],
    ['pid > 12abc', 6, /bad number/],
    ['pid ~ 5', 6, /needs a string/],
    ['$nope == 1', 0, /unknown field '\$nope'/],
  ];
  for (const [src, pos, re] of cases) {
    it(`${JSON.stringify(src)} → error at ${pos}`, () => {
      const { filter, error } = tryCompileFilter(src, known);
      expect(filter).toBeNull();
      expect(error).toBeInstanceOf(FilterError);
      expect(error?.message).toMatch(re);
      expect(error?.position).toBe(pos);
    });
  }
});
