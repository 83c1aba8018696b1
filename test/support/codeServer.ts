// A real VS Code (code-server) on 127.0.0.1, driven by Debian's Chromium through
// playwright-core. Every start gets a fresh HOME, user-data and extensions dir; the
// extension is the packaged .vsix (RINGBUF_STUDIO_VSIX) or the repo itself, linked
// into the extensions dir (the build in dist/ must be current).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page, type Locator, type FrameLocator } from 'playwright-core';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const codeServerBin = path.join(repoRoot, '.cache', 'code-server', 'node_modules', '.bin', 'code-server');
export const resultsDir = path.join(repoRoot, 'test-results');

export interface CodeServerOptions {
  /** Folder opened as the workspace. */
  workspace: string;
  /** Extra user settings merged over the test defaults. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and its extension host (e.g. HOME's .ssh is set up by the caller). */
  env?: Record<string, string>;
  /** Use this HOME instead of a fresh temp dir (e.g. one with .ssh/config). */
  home?: string;
  /**
   * Workspace Trust as a user has it: on, and a folder nobody trusted yet opens in
   * Restricted Mode (no startup dialog; trust it through "Manage Workspace Trust").
   * Default off: every folder is trusted.
   */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  home: string;
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
  /** code-server's own stdout/stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Why the UI tier cannot run here, or null. */
export function codeServerMissing(): string | null {
  if (!fs.existsSync(codeServerBin)) return `code-server not installed at ${codeServerBin} (run: bash scripts/install-code-server.sh)`;
  if (!process.env.RINGBUF_STUDIO_VSIX && !fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    return 'dist/extension.js missing (run: node scripts/build.mjs)';
  }
  return null;
}

function installExtension(userDataDir: string, extensionsDir: string, home: string): void {
  const vsix = process.env.RINGBUF_STUDIO_VSIX;
  if (vsix) {
    execFileSync(codeServerBin, ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', path.resolve(vsix)], {
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share') },
      stdio: 'pipe',
      timeout: 60_000,
    });
    return;
  }
  // code-server cannot install a folder; a symlink named publisher.name-version is picked up as installed.
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  fs.symlinkSync(repoRoot, path.join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`), 'dir');
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms:\n${output()}`);
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const missing = codeServerMissing();
  if (missing) throw new Error(missing);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-'));
  const home = opts.home ?? path.join(base, 'home');
  const userDataDir = path.join(base, 'user-data');
  const extensionsDir = path.join(base, 'extensions');
  for (const d of [home, path.join(userDataDir, 'User'), extensionsDir]) fs.mkdirSync(d, { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': opts.workspaceTrust === true,
    'security.workspace.trust.startupPrompt': 'never',
    'telemetry.telemetryLevel': 'off',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'editor.minimap.enabled': false,
    'files.autoSave': 'off',
    'window.restoreWindows': 'none',
    ...opts.settings,
  };
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  installExtension(userDataDir, extensionsDir, home);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child = spawn(
    codeServerBin,
    ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
      '--disable-telemetry', '--disable-update-check', ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override', opts.workspace],
    {
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share'), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: stop() ends code-server and the extension hosts it forked.
      detached: true,
    },
  );
  const keep = (b: Buffer): void => {
    log = (log + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const output = (): string => log;
  const stop = async (): Promise<void> => {
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    // Extension hosts may outlive code-server's exit by a moment: end what is left of the group.
    signalGroup('SIGKILL');
    // RBS_UI_KEEP=1 keeps the profile (logs under user-data/logs/) for a post-mortem.
    if (process.env.RBS_UI_KEEP === '1') console.warn(`code-server profile kept in ${base}`);
    else fs.rmSync(base, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    await waitForHealth(url, child, output, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, pid: child.pid ?? -1, home, userDataDir, extensionsDir, workspace: opts.workspace, output, stop };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Opens the workbench on the server's workspace and waits until it is usable. */
export async function openWorkbench(browser: Browser, server: CodeServer): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await context.newPage();
  await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}`, { timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.statusbar').waitFor({ timeout: 60_000 });
  return page;
}

async function openPalette(page: Page): Promise<Locator> {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 3_000 });
      return input;
    } catch {
      // focus was inside a webview or a dialog: click the title bar area and try again
      await page.locator('.part.titlebar, .monaco-workbench').first().click({ position: { x: 5, y: 5 } }).catch(() => undefined);
    }
  }
  throw new Error('the command palette (F1) did not open');
}

/**
 * F1 → type the command's palette title → Enter. Extension contributions arrive a
 * few seconds after the workbench shows, so the palette is reopened until the
 * command is listed (a missing command fails after `timeoutMs`).
 */
export async function runCommand(page: Page, title: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const input = await openPalette(page);
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ timeout: 3_000 });
      await input.press('Enter');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`command "${title}" is not in the palette`, { cause: err });
    }
  }
}

/** Picks a QuickPick item by its label text. */
export async function pickQuickItem(page: Page, label: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(label);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor();
  await input.press('Enter');
}

/**
 * Expands a tree item until one of its children shows (a click under load, or one that lands
 * while the tree re-renders after a run, can be lost: retried).
 */
export async function expandUntil(item: Locator, child: Locator): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if ((await item.getAttribute('aria-expanded')) !== 'true') await item.locator('.monaco-tl-twistie').click();
    try {
      await child.first().waitFor({ timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt >= 4) throw err;
    }
  }
}

/**
 * Right-click → Execute Using Profile… → the profile. The quick pick's list is virtualized (rows
 * below its fold are not in the page), so each label is typed into its filter before it is
 * looked for: `listed` are checked to be offered, then `profile` is chosen. Retried (a menu or
 * pick left open is closed first).
 */
export async function executeUsingProfile(page: Page, row: Locator, profile: string, listed: readonly string[] = []): Promise<void> {
  const offered = (label: string): Locator => page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await row.click({ button: 'right' });
    const item = page.locator('.context-view .action-item', { hasText: 'Execute Using Profile' }).first();
    const filter = page.locator('.quick-input-widget .quick-input-box input').first();
    try {
      await item.waitFor({ timeout: 10_000 });
      // A menu item arms its mouse-up handler 100 ms after it renders, so a click that quick
      // is lost and the menu stays open. The keyboard has no such delay: hovering focuses the
      // item, Enter runs it.
      await item.hover();
      await page.locator('.context-view .action-item.focused', { hasText: 'Execute Using Profile' }).first().waitFor({ timeout: 5_000 });
      await page.keyboard.press('Enter');
      await filter.waitFor({ timeout: 10_000 });
      for (const label of [...listed, profile]) {
        await filter.fill(label);
        await offered(label).waitFor({ timeout: 10_000 });
      }
    } catch (err) {
      if (attempt >= 4) throw err;
      await page.keyboard.press('Escape');
      continue;
    }
    await offered(profile).click();
    return;
  }
}

/** Opens the Problems panel and returns the locator of its rows. */
export async function problems(page: Page): Promise<Locator> {
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  const panel = page.locator('.markers-panel');
  await panel.waitFor();
  return panel.locator('.monaco-list-row');
}

/** The document inside a webview panel (two iframes deep). */
export function webview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview').first().frameLocator('iframe#active-frame');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Quick Open (Ctrl+P) → the file opens in an editor; waits for its tab. */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(relativePath);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: path.basename(relativePath) }).first().waitFor();
  await input.press('Enter');
  await editorTab(page, path.basename(relativePath)).waitFor();
}

export function editorTab(page: Page, fileName: string): Locator {
  return page.locator('.tabs-container .tab', { hasText: fileName }).first();
}

/** Ctrl+G to a 1-based line in the active editor. */
export async function goToLine(page: Page, line: number): Promise<void> {
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${line}`);
  await input.press('Enter');
  await input.waitFor({ state: 'hidden' });
}

/** Replaces the text of the current line (after its indentation) without auto-closing brackets. */
export async function replaceCurrentLine(page: Page, text: string): Promise<void> {
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.insertText(text);
}
