// The panel's side of the conversation with the extension (core/protocol/panel.ts):
// says `ready` until a snapshot answers, validates every message that arrives
// (parseHostMessage) and hands it on, and sends requests that each end in a reply, an
// error reply or a timeout (RequestTracker).
import {
  PANEL_PROTOCOL_VERSION,
  RequestTracker,
  parseHostMessage,
  requestTimeoutMs,
} from '../../core/protocol/panel';
import type { ClearedMessage, PanelViewState, SnapshotMessage, UpdateMessage, WebviewRequest, WebviewToHost } from '../../core/protocol/panel';
import type { PanelDebug } from './debug';

export interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

export interface HostHandlers {
  snapshot(msg: SnapshotMessage): void;
  /** Only after the first snapshot. */
  update(msg: UpdateMessage): void;
  cleared(msg: ClearedMessage): void;
  /** After every valid message (the frame loop redraws). */
  received(): void;
  /** Something worth a line in the panel's status (e.g. the extension does not answer yet). */
  status(text: string, level: 'info' | 'warn'): void;
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class HostLink {
  private readonly tracker = new RequestTracker();
  private gotSnapshot = false;

  constructor(
    private readonly vscode: VsCodeApi,
    private readonly handlers: HostHandlers,
    private readonly debug: Pick<PanelDebug, 'messages' | 'rejected' | 'messageMs'>,
  ) {}

  /** Listens for the extension's messages and says `ready`. */
  start(): void {
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    this.sendReady();
  }

  /** A request: resolves with the reply's result, rejects with the error reply or a timeout. */
  request(msg: WithoutId<WebviewRequest>, what: string): Promise<string | undefined> {
    const id = this.tracker.newId();
    const reply = this.tracker.wait(id, what, requestTimeoutMs[msg.type]);
    this.post({ ...msg, id });
    return reply;
  }

  /** The view state, kept by VS Code for this webview and by the host for the next snapshot. */
  saveView(view: PanelViewState): void {
    this.vscode.setState(view);
    this.post({ type: 'viewState', id: this.tracker.newId(), view: { ...view, hiddenColumns: [...view.hiddenColumns] } });
  }

  private post(msg: WebviewToHost): void {
    this.vscode.postMessage(msg);
  }

  private sendReady(): void {
    if (this.gotSnapshot) return;
    const id = this.tracker.newId();
    this.post({ type: 'ready', id, protocol: PANEL_PROTOCOL_VERSION });
    // A timeout (the host was busy or not listening yet) is answered by asking again.
    this.tracker.wait(id, 'ready', requestTimeoutMs.ready).catch(() => {
      if (this.gotSnapshot) return;
      this.handlers.status('Waiting for the extension… (no snapshot yet; retrying)', 'warn');
      this.sendReady();
    });
  }

  private receive(data: unknown): void {
    const t0 = performance.now();
    this.handle(data);
    this.debug.messageMs += performance.now() - t0;
  }

  private handle(data: unknown): void {
    let msg;
    try {
      msg = parseHostMessage(data);
    } catch (err) {
      this.debug.rejected++;
      const text = err instanceof Error ? err.message : String(err);
      this.post({ type: 'log', id: this.tracker.newId(), level: 'warn', text: `webview rejected a message: ${text}` });
      return;
    }
    this.debug.messages++;
    switch (msg.type) {
      case 'snapshot':
        this.tracker.settle(msg);
        this.gotSnapshot = true;
        this.handlers.snapshot(msg);
        break;
      case 'update':
        if (this.gotSnapshot) this.handlers.update(msg);
        break;
      case 'cleared':
        this.handlers.cleared(msg);
        break;
      case 'reply':
      case 'error':
        this.tracker.settle(msg);
        break;
    }
    this.handlers.received();
  }
}
