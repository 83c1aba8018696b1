// The Live Events page: one HTML skeleton with a strict CSP, used by the extension
// (extension/livePanel.ts, with webview.cspSource and asWebviewUri) and by the panel
// browser tests' harness (same CSP, served from 127.0.0.1), so the tests run under
// the policy users get. The page has no inline script; every script needs the nonce.
import { hexOf } from '../util/hex';

export interface PanelHtmlOptions {
  /** webview.cspSource (or the harness origin). */
  cspSource: string;
  /** Fresh per render: 32 random base64/hex characters. */
  nonce: string;
  /** URIs of dist/webview files. */
  panelJs: string;
  panelCss: string;
  elementsJs: string;
  uplotCss: string;
  /** Extra stylesheets (the test harness's theme variables; VS Code injects its own). */
  extraStyles?: string[];
  /** Extra scripts loaded first with the nonce (the test harness's stub API). */
  preludeScripts?: string[];
  /** Initial theme class for the harness (VS Code sets it on <body> itself). */
  bodyClass?: string;
}

/**
 * The CSP: nothing by default; scripts only with the nonce; styles from our files or
 * with the nonce (vscode-elements uses constructable stylesheets, which CSP does not
 * restrict, so no 'unsafe-inline' is needed); images/fonts from our files only.
 */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ') + ';';
}

function attr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderPanelHtml(o: PanelHtmlOptions): string {
  const n = attr(o.nonce);
  const prelude = (o.preludeScripts ?? []).map((s) => `<script nonce="${n}" src="${attr(s)}"></script>`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${attr(panelCsp(o.cspSource, o.nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <title>Live Events</title>
    <link rel="stylesheet" href="${attr(o.uplotCss)}">
    <link rel="stylesheet" href="${attr(o.panelCss)}">
    ${(o.extraStyles ?? []).map((s) => `<link rel="stylesheet" href="${attr(s)}">`).join('\n    ')}
    ${prelude}
    <script type="module" nonce="${n}" src="${attr(o.elementsJs)}"></script>
    <script defer nonce="${n}" src="${attr(o.panelJs)}"></script>
  </head>
  <body${o.bodyClass ? ` class="${attr(o.bodyClass)}"` : ''}>
    <div id="app" aria-live="off"><p class="boot">Waiting for the extension…</p></div>
  </body>
</html>
`;
}

/** A nonce from a CSPRNG (crypto.getRandomValues exists in Node ≥ 19 and browsers). */
export function makeNonce(): string {
  const bytes = new Uint8Array(24);
  globalThis.crypto.getRandomValues(bytes);
  return hexOf(bytes);
}
