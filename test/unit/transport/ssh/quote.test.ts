import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellCommand, shellQuote } from '../../../../core/transport/ssh/quote';

const hostile = [
  '',
  'plain',
  "it's",
  "'",
  "''''",
  'a;touch /tmp/pwned',
  '$(touch /tmp/pwned)',
  '`touch /tmp/pwned`',
  'line1\nline2\n',
  '"double" \\back\\slash',
  '$HOME ${PATH} $((1+1))',
  '*?[a-z] ~root',
  '-n',
  '|&><!#\t',
  "end'\n;$(id)`id`'",
  'ünïcødé ✓',
];

describe('shellQuote', () => {
  it.each(hostile)('a POSIX shell gets %j back unchanged', (arg) => {
    // The shell sees exactly what a remote sshd would pass to `sh -c`.
    const out = execFileSync('sh', ['-c', `printf %s ${shellQuote(arg)}`], { encoding: 'utf8' });
    expect(out).toBe(arg);
  });

  it('keeps argv boundaries when commands are joined', () => {
    const argv = ['a b', "c'd", '', '$(x)'];
    const script = `for a in ${shellCommand(argv)}; do printf '<%s>' "$a"; done`;
    expect(execFileSync('sh', ['-c', script], { encoding: 'utf8' })).toBe('<a b><c\'d><><$(x)>');
  });

  it('leaves simple words readable and refuses NUL', () => {
    expect(shellQuote('/home/u/.cache/ringbuf-helper-x86_64')).toBe('/home/u/.cache/ringbuf-helper-x86_64');
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});
