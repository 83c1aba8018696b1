// The Live Events page as the extension renders it: a strict CSP with a fresh nonce,
// no remote resources, every script carrying the nonce, and no way for a hostile URI
// to break out of its attribute. (The browser side — injected scripts and handlers
// blocked, hostile event text rendered as text — is test/panel/panel.test.ts.)
import { describe, expect, it } from 'vitest';
import { makeNonce, panelCsp, renderPanelHtml } from '../../../core/panel/html';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
const page = (nonce: string, uri = `${cspSource}/dist/webview/panel.js`): string =>
  renderPanelHtml({ cspSource, nonce, panelJs: uri, panelCss: `${cspSource}/p.css`, elementsJs: `${cspSource}/e.js`, uplotCss: `${cspSource}/u.css` });

describe('panel HTML and CSP', () => {
  it("CSP: default-src 'none', scripts only with the nonce, nothing inline or eval'd, no remote origins", () => {
    const csp = panelCsp(cspSource, 'N0NCE');
    expect(csp).toMatch(/^default-src 'none';/);
    expect(csp).toContain("script-src 'nonce-N0NCE'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:(?!\/\/file\+\.vscode-resource)/);
    for (const directive of csp.split(';').map((d) => d.trim()).filter(Boolean)) {
      const sources = directive.split(/\s+/).slice(1);
      for (const s of sources) expect(["'none'", "'nonce-N0NCE'", cspSource, 'data:']).toContain(s);
    }
  });

  it('every <script> carries the nonce; no inline script; all resources come from the webview origin', () => {
    const html = page('abc123');
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) {
      expect(s).toContain('nonce="abc123"');
      expect(s).toMatch(/src="/);
    }
    expect(html).not.toMatch(/<script[^>]*>[^<\s]/); // no inline code
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline handlers
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]*)"/g)) expect(url!.startsWith(cspSource)).toBe(true);
  });

  it('a fresh nonce each render (32 characters, unguessable)', () => {
    const a = makeNonce();
    const b = makeNonce();
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(32);
  });

  it('a hostile resource URI cannot close its attribute or add a script', () => {
    const html = page('n', `${cspSource}/x"><script>alert(1)</script>`);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
  });
});
