// "Columns": a toggle button and the menu of checkboxes that show or hide each column.
import type { TableColumn } from '../../core/panel/rows';
import { ce, clear, h } from './dom';

export class ColumnsMenu {
  readonly button: HTMLElement;
  readonly menu = h('div', { class: 'columns-menu', id: 'columns-menu', role: 'group', attrs: { 'aria-label': 'Shown columns' } });
  /** The names of the columns now hidden. */
  onChange: ((hidden: string[]) => void) | undefined;

  constructor() {
    this.button = ce('vscode-button', { id: 'columns-button', title: 'Show or hide columns', secondary: '', 'aria-expanded': 'false', 'aria-controls': 'columns-menu' }, 'Columns');
    this.button.addEventListener('click', () => {
      this.menu.hidden = !this.menu.hidden;
      this.button.setAttribute('aria-expanded', String(!this.menu.hidden));
    });
    this.menu.hidden = true;
  }

  /** One checkbox per column, checked when shown. */
  render(columns: readonly TableColumn[], hidden: readonly string[]): void {
    const hiddenSet = new Set(hidden);
    clear(this.menu);
    for (const c of columns) {
      const box = h('input', { id: `col-${c.name}`, attrs: { type: 'checkbox' } });
      box.checked = !hiddenSet.has(c.name);
      box.addEventListener('change', () => {
        const set = new Set(hidden);
        if (box.checked) set.delete(c.name);
        else set.add(c.name);
        this.onChange?.([...set]);
      });
      this.menu.append(h('label', { class: 'col-toggle' }, box, c.label));
    }
  }
}
