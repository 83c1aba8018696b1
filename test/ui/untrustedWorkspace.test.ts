// A cloned repository attacks the user through its .vscode/settings.json: it names
// binaries that would run on save and as root, asks to run its program at startup on
// the user's own SSH alias, adds a target whose host would inject known_hosts entries,
// and overrides ring sizes. In a real VS Code (code-server, Workspace Trust on) this
// shows what runs and what asks, first in Restricted Mode, then after the user trusts
// the folder, then after a reload:
//   - the binaries chosen by the workspace never run (a marker file they would write never appears);
//   - in Restricted Mode the lint works and nothing compiles or runs: Build and Run say why
//     and offer Manage Workspace Trust; runOnStartup does not even ask;
//   - once trusted, runOnStartup asks before anything runs on the remote alias, and nothing
//     connects until it is answered; "Don't Run" is remembered across a reload;
//   - a build on save uses the user's clang; a Run the user starts uses the bundled helper.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allPrograms } from '../support/bpfPrograms';
import { helperPidsUnder } from '../support/helperProcesses';
import { available } from '../support/prereq';
import { startSshd, type SshdInstance } from '../support/sshd';
import {
  editorTab,
  launchBrowser,
  openFile,
  openWorkbench,
  problems,
  runCommand,
  screenshot,
  startCodeServer,
  type CodeServer,
} from '../support/codeServer';

const alias = 'rbs-trust-target';

/** The exec fixture with a BPF name that is ours alone (bpftool shows it if it ever loads); max_entries 1000 draws a lint warning. */
function hostileProgram(progName: string): string {
  const fixture = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'helper', 'exec.bpf.c'), 'utf8');
  const text = fixture.replace('rbs_t_exec', progName).replace('__uint(max_entries, 256 * 1024);', '__uint(max_entries, 1000);');
  if (!text.includes(progName) || !text.includes('max_entries, 1000')) throw new Error('test/fixtures/helper/exec.bpf.c changed: update hostileProgram()');
  return text;
}

/** A script that leaves a marker, then does what the real binary would. */
function markerScript(file: string, marker: string, real: string): void {
  fs.writeFileSync(file, `#!/bin/sh\necho "$0 $*" >> '${marker}'\nexec ${real} "$@"\n`, { mode: 0o755 });
}

/** Every line the extension wrote to its log (the "Ringbuf Studio" output channel's file). */
function extensionLog(server: CodeServer): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/Ringbuf Studio\.log$/.test(e.name)) files.push(p);
    }
  };
  walk(path.join(server.userDataDir, 'logs'));
  return files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
}

async function waitForLog(server: CodeServer, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(extensionLog(server));
    if (m) return m[0];
    if (Date.now() > deadline) throw new Error(`no log line ${pattern} within ${timeoutMs} ms; the log:\n${extensionLog(server).slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function notification(page: Page, text: string | RegExp) {
  return page.locator('.notification-toast', { hasText: text }).first();
}

describe.skipIf(!available('browser') || !available('bpf') || !available('sshd'))('a hostile workspace in code-server with Workspace Trust', () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let sshd: SshdInstance;
  let base: string;
  let workspace: string;
  let knownHosts: string;
  let knownHostsBefore: string;
  const marker = (): string => path.join(base, 'marker');
  const progName = `rbs_tr_${Math.random().toString(36).slice(2, 7)}`;
  const ours = (): number[] => allPrograms().filter((p) => p.name === progName).map((p) => p.id);

  /** Nothing the workspace chose ran: no marker, no helper on either side, our program not in the kernel. */
  function nothingRan(): void {
    expect(fs.existsSync(marker()), `marker: ${fs.existsSync(marker()) ? fs.readFileSync(marker(), 'utf8') : ''}`).toBe(false);
    expect(helperPidsUnder(sshd.pid), 'helpers under sshd').toEqual([]);
    expect(helperPidsUnder(server.pid), 'helpers under code-server').toEqual([]);
    expect(ours(), `program ${progName} loaded`).toEqual([]);
    expect(fs.readFileSync(knownHosts, 'utf8')).toBe(knownHostsBefore);
  }

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-trust-'));
    workspace = path.join(base, 'cloned-repo');
    const home = path.join(base, 'home');
    fs.mkdirSync(path.join(workspace, 'prog'), { recursive: true });
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'prog', 'hostile.bpf.c'), hostileProgram(progName));
    // The repository ships the binaries it wants run.
    const clang = execFileSync('sh', ['-c', 'command -v clang'], { encoding: 'utf8' }).trim();
    markerScript(path.join(workspace, '.vscode', 'clang.sh'), marker(), clang);
    markerScript(path.join(workspace, '.vscode', 'helper.sh'), marker(), path.join(__dirname, '..', '..', 'dist', 'helper', 'ringbuf-helper-x86_64'));
    fs.writeFileSync(
      path.join(workspace, '.vscode', 'settings.json'),
      JSON.stringify({
        'ringbufStudio.clangPath': path.join(workspace, '.vscode', 'clang.sh'),
        'ringbufStudio.helperPath': path.join(workspace, '.vscode', 'helper.sh'),
        'ringbufStudio.runOnStartup': 'prog/hostile.bpf.c',
        'ringbufStudio.defaultTarget': alias,
        'ringbufStudio.targets': [{ name: 'mirror', host: 'evil.example,github.com,*.corp.example', proxyJump: alias }],
        'ringbufStudio.maxEntriesOverrides': { rb: 1 },
        'ringbufStudio.compileOn': 'target',
        'ringbufStudio.buildOnSave': true,
        'ringbufStudio.panel.maxMemoryMB': 1e9,
      }, null, 2),
    );
    // The user's own SSH alias: root on a real sshd, its host key already known — a run there needs no prompt at all.
    sshd = await startSshd();
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(home, '.ssh', 'config'), `Host ${alias}\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n  IdentitiesOnly yes\n`);
    knownHosts = path.join(home, '.ssh', 'known_hosts');
    knownHostsBefore = `${sshd.knownHostsLine}\n`;
    fs.writeFileSync(knownHosts, knownHostsBefore);
    server = await startCodeServer({ workspace, home, workspaceTrust: true });
    browser = await launchBrowser();
    page = await openWorkbench(browser, server);
  });

  afterAll(async () => {
    if (page) await screenshot(page, 'trust-last').catch(() => undefined);
    await browser?.close();
    await server?.stop();
    await sshd?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('Restricted Mode: the lint shows, Build and Run say why they are off, runOnStartup does not ask, nothing runs', async () => {
    await page.locator('.statusbar-item', { hasText: 'lint only' }).first().waitFor({ timeout: 60_000 });
    await waitForLog(server, /activated \(.*Restricted Mode: lint only\)/, 10_000);

    await openFile(page, 'prog/hostile.bpf.c');
    const rows = await problems(page);
    await rows.filter({ hasText: 'RB002' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'trust-1-restricted-lint');

    // Saving lints; it does not compile (buildOnSave is on, clang would run).
    await editorTab(page, 'hostile.bpf.c').click();
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('End');
    await page.keyboard.type(' ');
    await page.keyboard.press('Control+S');

    await runCommand(page, 'Ringbuf Studio: Build');
    const build = notification(page, 'Build is off in Restricted Mode');
    await build.waitFor({ timeout: 15_000 });
    expect(await build.innerText()).toMatch(/it runs clang on this folder's source/);
    await build.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).waitFor();

    await runCommand(page, 'Ringbuf Studio: Run on Local Host');
    const run = notification(page, 'Run is off in Restricted Mode');
    await run.waitFor({ timeout: 15_000 });
    expect(await run.innerText()).toMatch(/it loads this folder's program into the kernel as root/);
    await screenshot(page, 'trust-2-restricted-run-refused');

    expect(await notification(page, 'ask to run').count()).toBe(0);
    await new Promise((r) => setTimeout(r, 2000));
    nothingRan();
  });

  it('trusting the folder: runOnStartup asks before running on the remote alias; nothing connects until answered; "Don\'t Run" runs nothing', async () => {
    await notification(page, 'Run is off in Restricted Mode').locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).click();
    const trust = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
    await trust.waitFor({ timeout: 20_000 });
    await screenshot(page, 'trust-3-trust-editor');
    await trust.click();

    const ask = notification(page, /this workspace's settings .* ask to run prog\/hostile\.bpf\.c as root on rbs-trust-target/);
    await ask.waitFor({ timeout: 30_000 });
    expect(await ask.innerText()).toMatch(/ringbufStudio\.runOnStartup, ringbufStudio\.defaultTarget/);
    await screenshot(page, 'trust-4-runOnStartup-asks');
    // The question is on screen and nothing has connected or run.
    nothingRan();
    await ask.locator('.monaco-button', { hasText: /Run This Time/ }).waitFor();
    await ask.locator('.monaco-button', { hasText: "Don't Run" }).click();
    await waitForLog(server, /runOnStartup prog\/hostile\.bpf\.c on rbs-trust-target: the user answered Don't Run/, 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    nothingRan();
  });

  it('trusted: a save builds with the user\'s clang and a Run uses the bundled helper — the workspace\'s binaries never run', async () => {
    await editorTab(page, 'hostile.bpf.c').click();
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('End');
    await page.keyboard.type(' ');
    await page.keyboard.press('Control+S');
    await waitForLog(server, /build prog\/hostile\.bpf\.c: ok/, 60_000);
    expect(fs.existsSync(marker()), 'the workspace\'s clang ran').toBe(false);

    // The user asks for a run here: the helper is the bundled one (machine-scoped helperPath);
    // the workspace's max_entries override applies now that the folder is trusted, and is refused.
    await runCommand(page, 'Ringbuf Studio: Run on Local Host');
    const refused = notification(page, /rb=1 is not a valid ring buffer size/);
    await refused.waitFor({ timeout: 60_000 });
    await screenshot(page, 'trust-5-trusted-run');
    nothingRan();
  });

  it('after a reload the "Don\'t Run" answer holds: no question, nothing runs', async () => {
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await waitForLog(server, /runOnStartup prog\/hostile\.bpf\.c on rbs-trust-target: nothing \(you chose not to run it in this workspace\)/, 60_000);
    expect(await notification(page, 'ask to run').count()).toBe(0);
    await screenshot(page, 'trust-6-after-reload');
    nothingRan();
  });
});
