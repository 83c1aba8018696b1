// Real verifier logs (test/fixtures/verifier/logs/<kernel>/, see the README there) and
// the sources they came from.
import fs from 'node:fs';
import path from 'node:path';
import { explainVerifierLog, type VerifierExplanation } from '../../../core/verifier/explain';
import { parseVerifierLog, type ParsedVerifierLog } from '../../../core/verifier/log';
import { SourceLocator, type LineInfoLookup } from '../../../core/verifier/source';

export const verifierFixtures = path.resolve(__dirname, '../../fixtures/verifier');

export function fixtureSource(name: string): { file: string; text: string } {
  const file = path.join(verifierFixtures, `${name}.bpf.c`);
  return { file, text: fs.readFileSync(file, 'utf8') };
}

export function fixtureLog(kernel: string, name: string): string {
  return fs.readFileSync(path.join(verifierFixtures, 'logs', kernel, `${name}.log`), 'utf8');
}

/** 1-based line of the first line containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`no line contains ${marker}`);
  return i + 1;
}

export function explainFixture(kernel: string, name: string, opts: { lineInfo?: LineInfoLookup; loaded?: boolean } = {}): { log: ParsedVerifierLog; explained: VerifierExplanation; text: string; file: string } {
  const src = fixtureSource(name === 'loop_12_iterations' ? 'near_limit' : name.replace(/_level1$/, ''));
  const log = parseVerifierLog(fixtureLog(kernel, name));
  const locator = new SourceLocator(src, { section: /SEC\("([^"]+)"\)\s*\nint/.exec(src.text)?.[1] ?? '', ...(opts.lineInfo ? { lineInfo: opts.lineInfo } : {}) });
  return { log, explained: explainVerifierLog(log, locator, { ...(opts.loaded ? { loaded: true } : {}) }), ...src };
}
