// The field readers both boundaries validate with (core/protocol/fields.ts).
import { describe, expect, it } from 'vitest';
import { fieldReader } from '../../../core/protocol/fields';
import { decodeHelperFrame, FrameKind, ProtocolError } from '../../../core/protocol/helper';
import { PanelMessageError, parseWebviewMessage } from '../../../core/protocol/panel';

class TestError extends Error {}
const strict = fieldReader({ fail: (m) => new TestError(m), numbers: { min: 0, int: true }, maxString: 8 });
const lenient = fieldReader({ fail: (m) => new TestError(m), nullIsAbsent: true });

describe('field readers', () => {
  it('name the path and what was expected, in the error of the boundary', () => {
    expect(() => strict.str({ name: 7 }, 'name', 'LOADED.maps[]')).toThrow(new TestError('LOADED.maps[].name: expected a string'));
    expect(() => strict.str({ name: 'x'.repeat(9) }, 'name', 'm')).toThrow('m.name: longer than 8 characters');
    expect(() => strict.obj([], 'ready')).toThrow('ready: expected an object');
    expect(() => strict.oneOf({ c: 'exec' }, 'c', ['stop', 'pause'], 'command')).toThrow('command.c: expected one of stop, pause');
    expect(() => strict.strList({ l: ['a', 3] }, 'l', 'view')).toThrow('view.l[1]: expected a short string');
  });

  it("take the reader's number rule unless a call overrides a part of it", () => {
    expect(() => strict.num({ n: 1.5 }, 'n', 'o')).toThrow('o.n: expected an integer ≥ 0');
    expect(strict.num({ n: 1.5 }, 'n', 'o', { int: false })).toBe(1.5);
    expect(() => strict.num({ n: -1.5 }, 'n', 'o', { int: false })).toThrow('o.n: expected a number ≥ 0');
    expect(() => strict.num({ n: 0 }, 'n', 'o', { min: 1 })).toThrow('o.n: expected an integer ≥ 1');
    expect(lenient.num({ n: -1.5 }, 'n', 'o')).toBe(-1.5);
    expect(() => lenient.num({ n: Infinity }, 'n', 'o')).toThrow('o.n: expected a number');
  });

  it('read null as absent only where the boundary says so', () => {
    expect(lenient.optStr({ s: null }, 's', 'o')).toBeUndefined();
    expect(lenient.optArr({ a: null }, 'a', 'o')).toEqual([]);
    expect(() => strict.optStr({ s: null }, 's', 'o')).toThrow('o.s: expected a string');
  });

  it('surface as ProtocolError from a helper frame and PanelMessageError from a webview message', () => {
    const payload = new TextEncoder().encode(JSON.stringify({ reason: 5 }));
    const body = new Uint8Array(1 + payload.length);
    body[0] = FrameKind.bye;
    body.set(payload, 1);
    expect(() => decodeHelperFrame(body)).toThrow(ProtocolError);
    expect(() => decodeHelperFrame(body)).toThrow('helper protocol: BYE.reason: expected a string');
    expect(() => parseWebviewMessage({ type: 'ready', id: 1.5, protocol: 1 })).toThrow(PanelMessageError);
  });
});
