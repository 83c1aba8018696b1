// What the panel asks the extension to do — commands, exports, declaring an event type, a test from the filter —
// with the outcome (or the error and its hint) in the status line. Each request ends
// in a reply, an error reply or a timeout (HostLink), so none of these can hang.
import type { ExportFormat, ExportRequest, PanelCommand } from '../../core/protocol/panel';
import type { Footer } from './footer';
import type { HostLink } from './hostLink';

export class PanelActions {
  constructor(
    private readonly link: HostLink,
    private readonly footer: Footer,
  ) {}

  /** `quiet`: no status line on success (pause/resume show in the button itself). */
  command(command: PanelCommand, quiet = false): void {
    this.link.request({ type: 'command', command }, command).then(
      () => {
        if (!quiet) this.footer.showStatus(command === 'stop' ? 'Stop requested.' : command === 'clear' ? 'Cleared.' : '');
      },
      (err: unknown) => this.footer.showError(err),
    );
  }

  export(format: ExportFormat, request: Omit<ExportRequest, 'format'>): void {
    this.footer.showStatus(`Exporting ${request.scope === 'visible' ? 'shown' : 'all'} events as ${format.toUpperCase()}…`);
    this.link.request({ type: 'export', request: { format, ...request } }, 'export').then(
      (result) => this.footer.showStatus(result === 'cancelled' ? 'Export cancelled.' : (result ?? 'Exported.')),
      (err: unknown) => this.footer.showError(err),
    );
  }

  createTest(filter: string): void {
    this.footer.showStatus('Creating a test from the filter…');
    this.link.request({ type: 'createTest', filter }, 'create a test').then(
      (result) => this.footer.showStatus(result === 'cancelled' ? 'No test created.' : (result ?? 'Test created.')),
      (err: unknown) => this.footer.showError(err),
    );
  }

  declareEventType(map: string): void {
    this.link.request({ type: 'declareEventType', map }, 'declare the event type').catch((err: unknown) => this.footer.showError(err));
  }
}
