// Entry of the Live Events webview bundle (dist/webview/panel.js).
import { LiveEventsApp } from './app';
import type { VsCodeApi } from './app';

declare function acquireVsCodeApi(): VsCodeApi;

function start(): void {
  const mount = document.getElementById('app');
  if (!mount) return;
  const app = new LiveEventsApp(acquireVsCodeApi(), mount);
  // Read by the panel tests and the benchmark only.
  (window as unknown as { ringbufPanel: unknown }).ringbufPanel = app.debug;
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
