// The panel harness: a tiny HTTP server on 127.0.0.1 serving the built webview
// (dist/webview) inside the same HTML + CSP the extension renders (core/panel/html.ts),
// with a stub acquireVsCodeApi (harness/stub.js). The host side is the real
// core/panel/model.ts running in this process; messages cross through Playwright.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { TransformOptions, TransformResult } from 'esbuild';
import { makeNonce, panelCsp, renderPanelHtml } from '../../core/panel/html';
import { repoRoot } from './root';
import type { PanelModel } from '../../core/panel/model';
import type { HostToWebview } from '../../core/protocol/panel';

export { repoRoot };
const distWebview = path.join(repoRoot, 'dist/webview');
const harnessDir = path.join(repoRoot, 'test/panel/harness');

export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Builds dist/webview unless it is newer than every webview/core source. */
export function ensureBuilt(): void {
  const out = path.join(distWebview, 'panel.js');
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }
    return t;
  };
  const srcTime = Math.max(newest(path.join(repoRoot, 'webview/src')), newest(path.join(repoRoot, 'core/panel')), newest(path.join(repoRoot, 'core/decode')), fs.statSync(path.join(repoRoot, 'core/protocol/panel.ts')).mtimeMs);
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < srcTime || !fs.existsSync(path.join(distWebview, 'vscode-elements.js'))) {
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts/build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  }
}

export type Theme = 'dark' | 'light';

export interface HarnessServer {
  origin: string;
  /** Nonces handed out (the CSP test injects a script with a wrong one). */
  lastNonce: string;
  close(): Promise<void>;
}

const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.map': 'application/json' };

export async function startServer(): Promise<HarnessServer> {
  const state = { lastNonce: '' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (file: string): void => {
      if (!fs.existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(fs.readFileSync(file));
    };
    if (url.pathname === '/' || url.pathname === '/panel.html') {
      const theme: Theme = url.searchParams.get('theme') === 'light' ? 'light' : 'dark';
      const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
      state.lastNonce = makeNonce();
      const html = renderPanelHtml({
        cspSource: origin,
        nonce: state.lastNonce,
        panelJs: `${origin}/webview/panel.js`,
        panelCss: `${origin}/webview/panel.css`,
        elementsJs: `${origin}/webview/vscode-elements.js`,
        uplotCss: `${origin}/webview/uPlot.min.css`,
        extraStyles: [`${origin}/harness/theme-${theme}.css`],
        preludeScripts: [`${origin}/harness/stub.js`],
        bodyClass: theme === 'light' ? 'vscode-light' : 'vscode-dark',
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    if (url.pathname === '/empty.html') {
      // Baseline page for the bench: same CSP, nothing in it.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="${panelCsp(`http://${req.headers.host ?? '127.0.0.1'}`, makeNonce())}"></head><body></body></html>`);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/harness/stub.js') {
      // The stub is TypeScript (typed and linted with the tests); served transpiled.
      // Loaded at run time so the bench bundle does not try to bundle esbuild itself.
      const { transformSync } = createRequire(path.join(repoRoot, 'package.json'))('esbuild') as { transformSync: (code: string, options: TransformOptions) => TransformResult };
      const js = transformSync(fs.readFileSync(path.join(harnessDir, 'stub.ts'), 'utf8'), { loader: 'ts', target: 'es2022' }).code;
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(js);
      return;
    }
    const m = /^\/(webview|harness)\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    send(path.join(m[1] === 'webview' ? distWebview : harnessDir, m[2] ?? ''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get lastNonce() {
      return state.lastNonce;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
}

/** Replaces typed arrays with JSON-safe markers the stub revives. */
export function toTransport(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $u8: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v instanceof Uint32Array) return { $u32: Array.from(v) };
  if (Array.isArray(v)) return v.map(toTransport);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toTransport(x);
    return o;
  }
  return v;
}

export interface PanelPage {
  page: Page;
  /** Dialogs the page tried to open (alert/confirm): must stay empty. */
  dialogs: string[];
  /** Console errors and page errors. */
  errors: string[];
  /** CSP violations reported by the page. */
  cspViolations: string[];
  close(): Promise<void>;
}

/** Opens the panel page and connects it to `model` (model.attach + ready handshake). */
export async function openPanel(browser: Browser, server: HarnessServer, model: PanelModel, theme: Theme = 'dark'): Promise<PanelPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const dialogs: string[] = [];
  const errors: string[] = [];
  const cspViolations: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.exposeFunction('__harnessSend', (m: unknown) => model.handleMessage(m));
  await page.exposeFunction('__cspViolation', (text: string) => void cspViolations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __cspViolation: (t: string) => void }).__cspViolation(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  let closed = false;
  model.attach((msg: HostToWebview) => {
    if (closed) return;
    page.evaluate((w) => (window as unknown as { __harness: { deliver(x: unknown): void } }).__harness.deliver(w), toTransport(msg)).catch(() => undefined);
  });
  await page.goto(`${server.origin}/?theme=${theme}`);
  await page.waitForFunction(() => ((window as unknown as { ringbufPanel?: { messages: number } }).ringbufPanel?.messages ?? 0) > 0);
  return {
    page,
    dialogs,
    errors,
    cspViolations,
    close: async () => {
      closed = true;
      model.detach();
      await page.close();
    },
  };
}
