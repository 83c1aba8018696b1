// Text a target sent us (command output, a helper's messages) is data: before it goes
// into a message, a log line or a terminal, control characters — ANSI escape
// sequences, carriage returns, bells — become visible escapes and the length is bounded,
// so a target cannot repaint the user's terminal or flood a log.

const DEFAULT_MAX = 2000;

/**
 * `text` with every C0/C1 control character and DEL shown as `\xNN` (newlines and tabs
 * kept when `multiline`), cut to `maxLength` characters with a marker.
 */
export function printable(text: string, opts: { maxLength?: number; multiline?: boolean } = {}): string {
  const max = opts.maxLength ?? DEFAULT_MAX;
  const cut = text.length > max ? text.slice(0, max) : text;
  const keep = (c: string): boolean => opts.multiline === true && (c === '\n' || c === '\t');
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => (keep(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return text.length > max ? `${escaped}… (${text.length - max} more characters)` : escaped;
}

/** One line of remote text for a message: control characters escaped, at most `maxLength` characters. */
export function printableLine(text: string, maxLength = 200): string {
  return printable(text.trim(), { maxLength });
}
