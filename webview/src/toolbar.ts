// The row of controls above the table. It owns their elements and says what the person
// asked for; the app decides what that does to the view and what goes to the extension.
import type { ExportFormat, PanelCommand } from '../../core/protocol/panel';
import type { ColumnsMenu } from './columnsMenu';
import { ce, h, setText } from './dom';
import type { FilterBox } from './filterBox';

export interface ToolbarActions {
  togglePause(): void;
  autoScroll(on: boolean): void;
  command(command: Extract<PanelCommand, 'clear' | 'stop'>): void;
  export(format: ExportFormat, onlyShown: boolean): void;
  /** Create Test…: a live test from the filter in force. */
  createTest(): void;
}

export class Toolbar {
  readonly el: HTMLElement;
  private readonly pauseButton: HTMLElement;
  private readonly autoScrollBox: HTMLElement & { checked?: boolean };
  private readonly exportVisibleBox: HTMLElement & { checked?: boolean };

  constructor(filter: FilterBox, columns: ColumnsMenu, actions: ToolbarActions) {
    this.pauseButton = ce('vscode-button', { id: 'pause', secondary: '', 'aria-pressed': 'false', title: 'Pause the view (counts continue)' }, 'Pause');
    this.pauseButton.addEventListener('click', () => actions.togglePause());
    this.autoScrollBox = ce('vscode-checkbox', { id: 'autoscroll', checked: '', label: 'Auto-scroll' });
    this.autoScrollBox.addEventListener('change', () => actions.autoScroll(!!this.autoScrollBox.checked));
    this.exportVisibleBox = ce('vscode-checkbox', { id: 'export-visible', checked: '', label: 'Only shown' });
    const button = (id: string, label: string, title: string, onClick: () => void, secondary = true): HTMLElement => {
      const b = ce('vscode-button', { id, title, ...(secondary ? { secondary: '' } : {}) }, label);
      b.addEventListener('click', onClick);
      return b;
    };
    const exportAs = (format: ExportFormat) => () => actions.export(format, !!this.exportVisibleBox.checked);
    this.el = h(
      'div',
      { class: 'toolbar', role: 'toolbar', attrs: { 'aria-label': 'Event view' } },
      filter.el,
      button('create-test', 'Create Test…', 'Write a live test with this filter as `where` and the count seen so far into the program\'s .rbtest.yaml', () => actions.createTest()),
      this.pauseButton,
      this.autoScrollBox,
      columns.button,
      button('clear', 'Clear', 'Forget the events shown so far', () => actions.command('clear')),
      button('export-csv', 'Export CSV…', 'Save events as CSV', exportAs('csv')),
      button('export-json', 'Export JSON…', 'Save events as JSON', exportAs('json')),
      this.exportVisibleBox,
      button('stop', 'Stop', 'Stop the run (detaches the programs)', () => actions.command('stop'), false),
    );
  }

  showPaused(paused: boolean): void {
    setText(this.pauseButton, paused ? 'Resume' : 'Pause');
    this.pauseButton.setAttribute('aria-pressed', String(paused));
  }

  showAutoScroll(on: boolean): void {
    this.autoScrollBox.checked = on;
    if (on) this.autoScrollBox.setAttribute('checked', '');
    else this.autoScrollBox.removeAttribute('checked');
  }
}
