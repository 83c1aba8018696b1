import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { containedPath, isWithin } from '../../../core/util/paths';
import { printable, printableLine } from '../../../core/util/remoteText';

describe('containedPath: a local path built from remote data stays in its directory', () => {
  it('joins plain names', () => {
    expect(containedPath('/cache/vmlinux', 'abc')).toBe('/cache/vmlinux/abc');
    expect(containedPath('/cache/vmlinux/', 'ringbuf-helper-x86_64')).toBe('/cache/vmlinux/ringbuf-helper-x86_64');
  });

  it('refuses every name that could leave it', () => {
    for (const name of ['', '.', '..', '../x', 'a/../../b', '/etc/passwd', 'x86_64/../../etc', 'a\\b', 'a\0b']) {
      expect(() => containedPath('/cache', name), JSON.stringify(name)).toThrow(/refusing the file name/);
    }
  });

  it('for any name, the result is a direct child of the directory or an error', () => {
    const alphabet = ['.', '/', '\\', 'a', '\0', '..', '%2e', '~', ' '];
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      let name = '';
      for (let j = 0; j < 1 + (i % 7); j++) name += alphabet[(seed = (seed * 1103515245 + 12345) % 2147483648) % alphabet.length];
      let out: string | undefined;
      try {
        out = containedPath('/base/dir', name);
      } catch {
        continue;
      }
      expect(path.dirname(out)).toBe('/base/dir');
    }
  });

  it('isWithin', () => {
    expect(isWithin('/a/b', '/a/b/c/d.h')).toBe(true);
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b', '/a/bc')).toBe(false);
    expect(isWithin('/a/b', '/a/b/../c')).toBe(false);
  });
});

describe('printable: remote text cannot drive the terminal', () => {
  it('escapes ANSI sequences and other controls, keeps newlines only when asked', () => {
    expect(printableLine('\x1b[31mred\x1b[0m\r\n')).toBe('\\x1b[31mred\\x1b[0m');
    expect(printable('a\nb\tc\x07\x9b', { multiline: true })).toBe('a\nb\tc\\x07\\x9b');
    expect(printable('a\nb')).toBe('a\\x0ab');
    expect(printable('ünïcödé ✓')).toBe('ünïcödé ✓');
  });

  it('bounds the length', () => {
    expect(printable('x'.repeat(50), { maxLength: 10 })).toBe(`${'x'.repeat(10)}… (40 more characters)`);
  });
});
