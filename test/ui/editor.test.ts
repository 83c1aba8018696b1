// The whole loop in a real VS Code: code-server + Debian Chromium, driven like a user.
// One code-server for the file; the tests follow one user's story in order.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateConstant, isValidRingSize } from '../../core/lint';
import { allPrograms } from '../support/bpfPrograms';
import { helperProgramIds } from '../support/helperProcesses';
import { available } from '../support/prereq';
import { startSshd, type SshdInstance } from '../support/sshd';
import {
  editorTab,
  goToLine,
  openFile,
  launchBrowser,
  openWorkbench,
  pickQuickItem,
  problems,
  replaceCurrentLine,
  runCommand,
  screenshot,
  startCodeServer,
  webview,
  type CodeServer,
} from '../support/codeServer';

const hasLivePanel = fs.existsSync(path.join(__dirname, '..', '..', 'extension', 'livePanel.ts'));

/** A copy of /bin/true with its own name, so its execs carry a comm no other process has. */
function makeProbeBinary(dir: string, comm: string): string {
  const file = path.join(dir, comm);
  fs.copyFileSync('/bin/true', file);
  fs.chmodSync(file, 0o755);
  return file;
}

async function waitFor<T>(what: string, poll: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = poll();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Finds `__uint(max_entries, …)` inside the ringbuf map definition: its 1-based line and expression. */
function ringMaxEntries(text: string): { line: number; expr: string } {
  const lines = text.split('\n');
  const ringbufAt = lines.findIndex((l) => /BPF_MAP_TYPE_RINGBUF/.test(l));
  if (ringbufAt < 0) throw new Error('no BPF_MAP_TYPE_RINGBUF map in the file');
  for (let i = Math.max(0, ringbufAt - 5); i < Math.min(lines.length, ringbufAt + 6); i++) {
    const m = /__uint\(\s*max_entries\s*,\s*(.+?)\s*\)\s*;/.exec(lines[i]!);
    if (m) return { line: i + 1, expr: m[1]! };
  }
  throw new Error('no __uint(max_entries, …) next to the ringbuf map type');
}

describe.skipIf(!available('browser'))('Ringbuf Studio in code-server', () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  /** Set by the template test, used by the ones after it. */
  let programFile: string | undefined;

  const bpf = available('bpf');
  const sshd = bpf && available('sshd');
  let sshServer: SshdInstance | undefined;
  let home: string;
  const sshAlias = 'rbs-ui-target';
  /** Where the test's own uniquely named executables live (outside the workspace). */
  let probeDir: string;

  beforeAll(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-ws-'));
    // The editor's HOME: its ~/.ssh holds the test's own ssh config and known_hosts.
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-home-'));
    probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-bin-'));
    if (sshd) {
      sshServer = await startSshd();
      fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
      fs.writeFileSync(
        path.join(home, '.ssh', 'config'),
        `Host ${sshAlias}\n  HostName 127.0.0.1\n  Port ${sshServer.port}\n  User root\n  IdentityFile ${sshServer.clientKey}\n  IdentitiesOnly yes\n`,
      );
      fs.writeFileSync(path.join(home, '.ssh', 'known_hosts'), `${sshServer.knownHostsLine}\n`);
    }
    server = await startCodeServer({ workspace, home });
    browser = await launchBrowser();
    page = await openWorkbench(browser, server);
  });

  afterAll(async () => {
    if (page) await screenshot(page, 'ui-last').catch(() => undefined);
    await browser?.close();
    await server?.stop();
    await sshServer?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    if (home) fs.rmSync(home, { recursive: true, force: true });
    if (probeDir) fs.rmSync(probeDir, { recursive: true, force: true });
  });

  it('activates: the status bar shows the target', async () => {
    await runCommand(page, 'Ringbuf Studio: Show Log');
    await page.locator('.statusbar-item', { hasText: 'local' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.output-view, .output', { hasText: 'Ringbuf Studio' }).first().waitFor().catch(() => undefined);
  });

  it('the Get started walkthrough lists the loop, each step with its command', async () => {
    await runCommand(page, 'Welcome: Open Walkthrough...');
    await pickQuickItem(page, 'Get started with Ringbuf Studio');
    const steps = page.locator('.gettingStartedContainer');
    for (const title of ['Start from a template', 'See ringbuf mistakes while typing', 'Build with clang', 'Choose where it runs', 'Load, attach, stream', 'Watch the events']) {
      await steps.getByText(title, { exact: true }).first().waitFor({ timeout: 20_000 });
    }
    await screenshot(page, 'ui-0-walkthrough');
    await runCommand(page, 'View: Close All Editors');
  });

  it('palette → New Program from Template → execve → the program opens', async () => {
    await runCommand(page, 'Ringbuf Studio: New Program from Template…');
    await pickQuickItem(page, 'execve');
    // The folder prompt proposes <workspace>/execve: accept it.
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    expect(await input.inputValue()).toBe(path.join(workspace, 'execve'));
    await input.press('Enter');
    const tab = page.locator('.tabs-container .tab', { hasText: '.bpf.c' }).first();
    await tab.waitFor({ timeout: 30_000 });
    const name = (await tab.innerText()).trim().split('\n')[0]!;
    programFile = path.join(workspace, 'execve', name);
    expect(fs.existsSync(programFile), `${programFile} on disk`).toBe(true);
    await page.locator('.editor-instance .view-lines', { hasText: 'BPF_MAP_TYPE_RINGBUF' }).first().waitFor();
    await screenshot(page, 'ui-1-template-opened');
  });

  it('max_entries 1000 → RB002 warning in Problems → quick fix → gone and valid', async () => {
    if (!programFile) throw new Error('needs the program from the template test');
    const { line } = ringMaxEntries(fs.readFileSync(programFile, 'utf8'));
    await editorTab(page, path.basename(programFile)).click();
    await goToLine(page, line);
    await replaceCurrentLine(page, '__uint(max_entries, 1000);');

    const rows = await problems(page);
    const warning = rows.filter({ hasText: 'RB002' });
    await warning.first().waitFor({ timeout: 20_000 });
    expect(await warning.first().innerText()).toMatch(/1000/);
    await screenshot(page, 'ui-2-lint-warning');

    // Jump to the problem (F8 puts the cursor on it), then Ctrl+. for its quick fixes.
    await editorTab(page, path.basename(programFile)).click();
    await goToLine(page, line);
    await page.keyboard.press('F8');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+.');
    // The preferred fix is the focused first row; the widget takes keys, not clicks.
    const fix = page.locator('.action-widget .monaco-list-row.focused', { hasText: /max_entries/ }).first();
    await fix.waitFor();
    expect(await fix.innerText()).toMatch(/Change max_entries to \d+/);
    await screenshot(page, 'ui-2-quick-fix');
    await page.keyboard.press('Enter');

    await warning.first().waitFor({ state: 'detached', timeout: 20_000 });
    await page.keyboard.press('Control+S');
    await page.locator('.tabs-container .tab.dirty').first().waitFor({ state: 'detached' }).catch(() => undefined);
    const text = fs.readFileSync(programFile, 'utf8');
    const after = ringMaxEntries(text);
    const value = evaluateConstant(after.expr, {
      macro: (name) => new RegExp(`^\\s*#\\s*define\\s+${name}\\s+(.+)$`, 'm').exec(text)?.[1],
    });
    expect(value, `max_entries expression "${after.expr}"`).toBeDefined();
    expect(isValidRingSize(Number(value), 4096)).toBe(true);
    await screenshot(page, 'ui-2-fixed');
  });
  /**
   * Runs the template on `target`, waits until the Live Events panel shows an event of a
   * process we spawn, stops, and checks that none of the programs it loaded remain.
   */
  async function runAndSeeEvents(command: string, pickTarget: string | undefined, helperRoot: () => number, shot: string): Promise<void> {
    if (!programFile) throw new Error('needs the program from the template test');
    const comm = `rbsui${Math.random().toString(36).slice(2, 8)}`;
    const probe = makeProbeBinary(probeDir, comm);

    await openFile(page, path.relative(workspace, programFile));
    await runCommand(page, command);
    if (pickTarget) await pickQuickItem(page, pickTarget);

    // Ours: the template's program, held by a helper this run started.
    const ours = await waitFor('the program to be loaded', () => {
      const held = new Set(helperProgramIds(helperRoot()));
      const mine = allPrograms().filter((p) => held.has(p.id) && p.name === 'handle_exec');
      return mine.length ? mine.map((p) => p.id) : undefined;
    }, 90_000);

    // The Live Events panel; builds without it stream into the "Ringbuf Studio: Events" Output channel.
    const cell = hasLivePanel
      ? webview(page).getByText(comm, { exact: false }).first()
      : page.locator('.output-view .view-lines', { hasText: comm }).first();
    const deadline = Date.now() + 60_000;
    for (;;) {
      spawn(probe, [], { stdio: 'ignore' }).on('error', () => undefined);
      try {
        await cell.waitFor({ timeout: 1_000 });
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          await screenshot(page, `${shot}-failed`);
          throw new Error(`no event with comm ${comm} in the Live Events panel`, { cause: err });
        }
      }
    }
    await screenshot(page, shot);

    await runCommand(page, 'Ringbuf Studio: Stop');
    await waitFor('our programs to leave the kernel', () => {
      const ids = new Set(allPrograms().map((p) => p.id));
      return ours.every((id) => !ids.has(id)) ? true : undefined;
    }, 10_000);
    await page.locator('.statusbar-item', { hasText: 'stopped' }).first().waitFor({ timeout: 10_000 });
  }

  it.skipIf(!bpf)('Run on Local Host → Live Events shows our process → Stop → nothing of ours stays loaded', async () => {
    await runAndSeeEvents('Ringbuf Studio: Run on Local Host', undefined, () => server.pid, 'ui-3-live-events-local');
  });

  it.skipIf(!sshd)('Run on Target… (loopback sshd from ~/.ssh/config) → events → Stop → nothing stays loaded', async () => {
    await runAndSeeEvents('Ringbuf Studio: Run on Target…', sshAlias, () => sshServer!.pid, 'ui-4-live-events-ssh');
  });

  it.skipIf(!sshd)('Run on Several Targets… (local + the sshd host) → rows from both, each with its host → Stop', async () => {
    if (!programFile) throw new Error('needs the program from the template test');
    const comm = `rbsui${Math.random().toString(36).slice(2, 8)}`;
    const probe = makeProbeBinary(probeDir, comm);
    await openFile(page, path.relative(workspace, programFile));
    await runCommand(page, 'Ringbuf Studio: Run on Several Targets…');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    for (const name of ['local', sshAlias]) {
      await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
    }
    await input.press('Enter');

    const rows = webview(page).locator('.row[role=row]', { hasText: comm });
    const deadline = Date.now() + 60_000;
    for (;;) {
      spawn(probe, [], { stdio: 'ignore' }).on('error', () => undefined);
      const texts = await rows.allInnerTexts().catch(() => [] as string[]);
      if (texts.some((t) => t.includes(sshAlias)) && texts.some((t) => /\blocal\b/.test(t))) break;
      if (Date.now() > deadline) {
        await screenshot(page, 'ui-4b-several-targets-failed');
        throw new Error(`no rows with comm ${comm} from both targets; saw: ${texts.join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await screenshot(page, 'ui-4b-several-targets');
    await runCommand(page, 'Ringbuf Studio: Stop');
    await page.locator('.statusbar-item', { hasText: 'stopped' }).first().waitFor({ timeout: 15_000 });
    await waitFor('the helpers to exit', () => (helperProgramIds(server.pid).length + helperProgramIds(sshServer!.pid).length === 0 ? true : undefined), 10_000);
  });

  it.skipIf(!bpf)('Targets view: local and the ssh config host; selecting local probes it and shows its facts', async () => {
    await runCommand(page, 'Ringbuf Studio: Focus on Targets View');
    const tree = page.locator('.pane', { hasText: 'Targets' }).locator('.monaco-list').first();
    await tree.locator('.monaco-list-row', { hasText: 'local' }).first().waitFor();
    if (sshd) await tree.locator('.monaco-list-row', { hasText: sshAlias }).first().waitFor();
    await tree.locator('.monaco-list-row', { hasText: 'local' }).first().click();
    const pageSize = String(Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()));
    await tree.locator('.monaco-list-row', { hasText: 'page size' }).filter({ hasText: pageSize }).first().waitFor({ timeout: 30_000 });
    await tree.locator('.monaco-list-row', { hasText: 'kernel' }).filter({ hasText: os.release() }).first().waitFor();
    await tree.locator('.monaco-list-row', { hasText: 'ring buffer' }).filter({ hasText: 'yes' }).first().waitFor();
    await screenshot(page, 'ui-targets-view');
    await runCommand(page, 'View: Show Explorer');
  });

  it.skipIf(!bpf)('a verifier-rejected program → an error on its line in Problems', async () => {
    const source = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'helper', 'reject.bpf.c'), 'utf8');
    const dir = path.join(workspace, 'reject');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'reject.bpf.c');
    fs.writeFileSync(file, source);
    const line = source.split('\n').findIndex((l) => l.includes('REJECTED HERE')) + 1;
    expect(line).toBeGreaterThan(0);

    await openFile(page, 'reject/reject.bpf.c');
    await runCommand(page, 'Ringbuf Studio: Run on Local Host');
    const rows = await problems(page);
    const rejected = rows.filter({ hasText: 'verifier' }).filter({ hasText: `Ln ${line},` }).first();
    await rejected.waitFor({ timeout: 90_000 });
    expect(await rejected.innerText()).toMatch(/invalid mem access/);
    await screenshot(page, 'ui-5-verifier-reject');

    // The full verifier log is one command away.
    await runCommand(page, 'Ringbuf Studio: Show Verifier Log');
    await editorTab(page, 'verifier.log').waitFor();
    await page.locator('.editor-instance .view-lines', { hasText: 'rbs_t_reject' }).first().waitFor();
  });
});
