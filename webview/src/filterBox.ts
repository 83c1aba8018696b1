// The filter field: compiles what is typed (debounced; Enter at once) against the
// current event fields, shows the error with its column, and keeps the last valid
// filter working while the text is wrong.
import { tryCompileFilter } from '../../core/panel/filter';
import type { CompiledFilter } from '../../core/panel/filter';
import type { EventTyping } from '../../core/panel/rows';
import { ce, h, setText } from './dom';

const typingDelayMs = 150;

export class FilterBox {
  readonly el: HTMLElement;
  private readonly input: HTMLElement & { value?: string };
  private readonly error = h('div', { class: 'filter-error', id: 'filter-error', role: 'alert' });
  private current: CompiledFilter | null = null;
  private text = '';
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A new valid filter (null: show everything) and the text it came from. */
  onChange: ((filter: CompiledFilter | null, text: string) => void) | undefined;

  constructor(private readonly fields: () => EventTyping['fieldNames']) {
    this.input = ce('vscode-textfield', {
      id: 'filter',
      placeholder: 'Filter: comm == "bash" && pid > 100, comm ~ "ssh"',
      'aria-label': 'Filter events',
      'aria-describedby': 'filter-error',
    });
    this.input.addEventListener('input', () => this.typed(false));
    this.input.addEventListener('change', () => this.typed(true));
    this.el = h('div', { class: 'filter-box' }, this.input, this.error);
  }

  /** The filter in force (the last valid one). */
  get filter(): CompiledFilter | null {
    return this.current;
  }

  /** Shows `text` (e.g. from a snapshot's view state) and compiles it against the current fields. */
  set(text: string): CompiledFilter | null {
    this.text = text;
    this.input.value = text;
    this.input.setAttribute('value', text);
    const { filter, error } = tryCompileFilter(text, this.fields());
    this.current = error ? null : filter;
    this.showError(error ? error.message : '', error?.position);
    return this.current;
  }

  private typed(now: boolean): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (now) this.apply();
    else this.timer = setTimeout(() => this.apply(), typingDelayMs);
  }

  private apply(): void {
    const text = this.input.value ?? '';
    const { filter, error } = tryCompileFilter(text, this.fields());
    if (error) {
      // The stream continues with the last good filter.
      this.showError(error.message, error.position);
      return;
    }
    this.showError('');
    if (text === this.text && this.current?.source === filter?.source) return;
    this.current = filter;
    this.text = text;
    this.onChange?.(filter, text);
  }

  private showError(message: string, position?: number): void {
    setText(this.error, message ? `${message}${position !== undefined ? ` (column ${position + 1})` : ''} — showing ${this.current ? `the last valid filter: ${this.current.source}` : 'all events'}` : '');
    this.error.hidden = !message;
    this.input.toggleAttribute('invalid', !!message);
    this.input.setAttribute('aria-invalid', message ? 'true' : 'false');
  }
}
