// Live tests in the Testing view of a real VS Code (code-server + Chromium): a workspace with
// the execve template and an .rbtest.yaml holding a passing and a deliberately failing test.
// The tests are discovered with their ▶ in the YAML; "Run All Tests" runs them on this
// machine's kernel (the default profile: the file's targets, else local); the pass shows in
// the tree and the failure's message (count expected, count seen, the closest events) shows in
// the editor at the expectation's line. Then: a VM kernel as a run profile, a file whose
// `targets:` make a matrix, Create Test… from the Live Events panel, and Restricted Mode.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { cacheRoot } from '../../core/util/cache';
import { catalogueKernel, guestStatus, stopGuest } from '../../core/transport/qemu/index';
import { available } from '../support/prereq';
import { executeUsingProfile, expandUntil, launchBrowser, openFile, openWorkbench, runCommand, screenshot, startCodeServer, webview, type CodeServer } from '../support/codeServer';
import { parseLiveTestFile } from '../../core/livetest/parse';

const TESTS = `# Two live tests: the first passes, the second expects more than /bin/true emits.
program: execve.bpf.c
tests:
  - name: exec of true is seen
    run: ["/bin/true"]
    expect:
      - where: $trigger && comm == "true" && filename == "/bin/true"
        count: 1
  - name: deliberately failing
    run: ["/bin/true"]
    expect:
      - where: $trigger && comm == "true"
        count: 5
`;
/** The failing expectation's `- where:` line (the line above its `count: 5`). */
const FAILING_WHERE = (TESTS.split('\n')[TESTS.split('\n').findIndex((l) => l.includes('count: 5')) - 1] ?? '').trim();

/** A workspace folder with the execve template's program and `tests` as execve.rbtest.yaml. */
function templateWorkspace(folder: string, tests: string): void {
  fs.mkdirSync(folder, { recursive: true });
  const template = path.join(__dirname, '../../bpf-templates/execve');
  for (const f of ['execve.bpf.c', 'execve.h']) fs.copyFileSync(path.join(template, f), path.join(folder, f));
  fs.writeFileSync(path.join(folder, 'execve.rbtest.yaml'), tests);
}

/** Opens execve.rbtest.yaml and the Testing view; waits for the file's item, expanded, and its tests. */
async function showTests(page: Page, tests: string[]): Promise<Locator> {
  await openFile(page, 'execve.rbtest.yaml');
  await runCommand(page, 'Testing: Focus on Test Explorer View', 120_000);
  const tree = page.locator('.test-explorer .monaco-list').first();
  const file = tree.locator('.monaco-list-row', { hasText: 'execve.rbtest.yaml' }).first();
  await file.waitFor({ timeout: 60_000 });
  if (tests[0] !== undefined) await expandUntil(file, tree.locator('.monaco-list-row', { hasText: tests[0] }));
  for (const t of tests) await tree.locator('.monaco-list-row', { hasText: t }).first().waitFor({ timeout: 20_000 });
  return tree;
}

describe.skipIf(!available('browser') || !available('bpf'))('Live tests in the Testing view (code-server)', () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let workspace: string;

  beforeAll(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-livetest-'));
    templateWorkspace(workspace, TESTS);
    // The editor's HOME is a fresh one; vmlinux.h comes from this user's cache.
    server = await startCodeServer({ workspace, env: { RINGBUF_STUDIO_CACHE: cacheRoot() }, settings: { 'testing.automaticallyOpenPeekView': 'failureAnywhere' } });
    browser = await launchBrowser();
    page = await openWorkbench(browser, server);
  }, 120_000);

  afterAll(async () => {
    if (page) await screenshot(page, 'ui-livetests-last').catch(() => undefined);
    await browser?.close();
    await server?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  function testTree(): ReturnType<Page['locator']> {
    return page.locator('.test-explorer .monaco-list').first();
  }

  it('discovers the file and its two tests, with a ▶ at each test in the YAML', async () => {
    await showTests(page, ['exec of true is seen', 'deliberately failing']);
    // The gutter's run glyphs: one per test item with a range (and the file's at program:).
    await page.locator('.monaco-editor .glyph-margin-widgets .codicon-run, .monaco-editor .glyph-margin-widgets [class*="testing-run"]').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.monaco-editor .glyph-margin-widgets .codicon-run, .monaco-editor .glyph-margin-widgets [class*="testing-run"]').count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'ui-livetests-discovered');
  }, 120_000);

  it('Run All Tests: the passing test passes, the failing one shows its message at the expectation line', async () => {
    await runCommand(page, 'Test: Run All Tests');
    const tree = testTree();
    const passed = tree.locator('.monaco-list-row', { hasText: 'exec of true is seen' }).locator('.codicon-testing-passed-icon');
    const failed = tree.locator('.monaco-list-row', { hasText: 'deliberately failing' }).locator('.codicon-testing-failed-icon');
    await passed.first().waitFor({ timeout: 120_000 });
    await failed.first().waitFor({ timeout: 60_000 });
    // The peek opens in the YAML at the failing expectation with the runner's message.
    const message = page.locator('.monaco-editor .peekview-widget', { hasText: 'expected count 5, saw 1' }).first();
    await message.waitFor({ timeout: 30_000 });
    const text = await message.innerText();
    expect(text).toMatch(/expectation 1: `\$trigger && comm == "true"` expected count 5, saw 1/);
    expect(text).toMatch(/"comm":"true"/);
    await screenshot(page, 'ui-livetests-failure');
    // The peek sits right under the failing expectation's line.
    const lineOfPeek = await page.evaluate(() => {
      const peek = document.querySelector('.monaco-editor .peekview-widget');
      const lines = [...document.querySelectorAll('.monaco-editor .view-line')];
      const top = peek?.getBoundingClientRect().top ?? 0;
      const above = lines.filter((l) => l.getBoundingClientRect().bottom <= top + 1).sort((a, b) => b.getBoundingClientRect().top - a.getBoundingClientRect().top)[0];
      return above?.textContent ?? '';
    });
    expect(FAILING_WHERE).toBe('- where: $trigger && comm == "true"');
    expect(lineOfPeek.replace(/\u00a0/g, ' ').trim().startsWith(FAILING_WHERE)).toBe(true);
  }, 240_000);

  it.skipIf(!available('qemu'))('a VM kernel is a run profile: Execute Using Profile → qemu:debian-6.1 runs the tests in the guest', async () => {
    const guest = catalogueKernel('qemu:debian-6.1');
    const wasRunning = (await guestStatus(guest)).state === 'running';
    onTestFinished(async () => {
      if (!wasRunning) await stopGuest(guest);
    });
    const tree = testTree();
    const file = tree.locator('.monaco-list-row', { hasText: 'execve.rbtest.yaml' }).first();
    // Every kind of profile is offered: the file's targets, this machine, each VM kernel, the matrix.
    await executeUsingProfile(page, file, 'Run on qemu:debian-6.1', ["Run on the File's Targets", 'Run on local', 'Run on qemu:debian-5.10', 'Run on qemu:debian-6.12-arm64-16k', 'Run on All Targets']);
    // The Test Results terminal: this run's lines name the guest.
    const results = page.locator('.pane-body', { hasText: /✗ deliberately failing \d+ ms \[qemu:debian-6\.1\]/ }).first();
    await results.waitFor({ timeout: 240_000 });
    expect(await results.innerText()).toMatch(/✓ exec of true is seen \d+ ms \[qemu:debian-6\.1\]/);
    const passedRow = tree.locator('.monaco-list-row', { hasText: 'exec of true is seen' }).locator('.codicon-testing-passed-icon');
    const failedRow = tree.locator('.monaco-list-row', { hasText: 'deliberately failing' }).locator('.codicon-testing-failed-icon');
    await passedRow.first().waitFor({ timeout: 240_000 });
    await failedRow.first().waitFor({ timeout: 60_000 });
    await page.locator('.monaco-editor .peekview-widget', { hasText: 'expected count 5, saw 1' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'ui-livetests-vm');
  }, 480_000);

  it.skipIf(!available('qemu'))("a file with targets: [local, qemu:debian-6.1] is a matrix under the default profile: one item, a message per target", async () => {
    const guest = catalogueKernel('qemu:debian-6.1');
    const wasRunning = (await guestStatus(guest)).state === 'running';
    onTestFinished(async () => {
      if (!wasRunning) await stopGuest(guest);
    });
    // A new file: the watcher adds it to the tree.
    fs.writeFileSync(
      path.join(workspace, 'matrix.rbtest.yaml'),
      'program: execve.bpf.c\ntargets: [local, qemu:debian-6.1]\ntests:\n  - name: fails on both\n    run: ["/bin/true"]\n    expect:\n      - where: $trigger && comm == "true"\n        count: 3\n',
    );
    const tree = testTree();
    const file = tree.locator('.monaco-list-row', { hasText: 'matrix.rbtest.yaml' }).first();
    await file.waitFor({ timeout: 30_000 });
    await executeUsingProfile(page, file, "Run on the File's Targets");
    const results = page.locator('.pane-body', { hasText: /✗ fails on both \d+ ms \[qemu:debian-6\.1\]/ }).first();
    await results.waitFor({ timeout: 240_000 });
    await expandUntil(file, tree.locator('.monaco-list-row', { hasText: 'fails on both' }));
    await tree.locator('.monaco-list-row', { hasText: 'fails on both' }).locator('.codicon-testing-failed-icon').first().waitFor({ timeout: 30_000 });
    // One item, one message per target, labelled (the Test Results tree lists them under the test).
    for (const target of ['local', 'qemu:debian-6.1']) {
      const message = `[${target}] expectation 1: \`$trigger && comm == "true"\` expected count 3, saw 1`;
      await page.locator('.monaco-list-row', { hasText: message }).first().waitFor({ state: 'attached', timeout: 30_000 });
    }
    expect(await tree.locator('.monaco-list-row', { hasText: 'fails on both' }).count()).toBe(1);
    await screenshot(page, 'ui-livetests-matrix');
  }, 480_000);

  it('Create Test… in the Live Events panel adds a test with the filter and the count seen to execve.rbtest.yaml, keeping its comment', async () => {
    await openFile(page, 'execve.bpf.c');
    await runCommand(page, 'Ringbuf Studio: Run on Local Host');
    const filterText = 'filename == "/bin/true"';
    const rows = webview(page).locator('.row[role=row]', { hasText: '/bin/true' });
    const filter = webview(page).locator('#filter input');
    await filter.waitFor({ timeout: 90_000 });
    await filter.fill(filterText);
    await filter.press('Enter');
    const deadline = Date.now() + 60_000;
    while ((await rows.count()) === 0) {
      if (Date.now() > deadline) throw new Error('no /bin/true event in the Live Events panel');
      spawn('/bin/true', [], { stdio: 'ignore' }).on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 500));
    }
    await webview(page).locator('#create-test').click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    expect(await input.inputValue()).toBe(`${filterText} is seen`);
    await input.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'The command that makes the program emit these events' }).waitFor();
    await input.fill('/bin/true');
    await input.press('Enter');
    // The file is saved with the new test, and revealed in the editor (the panel's tab goes behind it).
    const file = path.join(workspace, 'execve.rbtest.yaml');
    await expect.poll(() => fs.readFileSync(file, 'utf8'), { timeout: 30_000 }).toContain(`- name: ${filterText} is seen`);
    await screenshot(page, 'ui-livetests-create-test');
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('# Two live tests: the first passes, the second expects more than /bin/true emits.\n')).toBe(true);
    const added = parseLiveTestFile(text, path.join(workspace, 'execve.rbtest.yaml')).file?.tests.at(-1);
    expect(added?.name).toBe(`${filterText} is seen`);
    expect(added?.trigger.argv).toEqual(['/bin/true']);
    expect(added?.expect[0]?.where).toBe(filterText);
    expect(added?.expect[0]?.count.op).toBe('>=');
    expect(added?.expect[0]?.count.n).toBeGreaterThanOrEqual(1);
    // Revealed in the editor, and a new item in the Testing view.
    await page.locator('.tab.active', { hasText: 'execve.rbtest.yaml' }).first().waitFor({ timeout: 10_000 });
    await testTree().locator('.monaco-list-row', { hasText: `${filterText} is seen` }).first().waitFor({ state: 'attached', timeout: 30_000 });
    await runCommand(page, 'Ringbuf Studio: Stop');
  }, 300_000);
});

// Restricted Mode: the tests are discovered (reading YAML runs nothing); Run asks for trust
// (VS Code's own gate for test runs) and, declined, runs nothing — not the setup, not the
// program, not the trigger. (Our controller refuses as well, with the run commands' one line,
// should a run request ever reach it untrusted.)
describe.skipIf(!available('browser'))('Live tests in Restricted Mode (code-server)', () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-livetest-trust-'));
    const workspace = path.join(base, 'cloned');
    const marker = path.join(base, 'marker');
    templateWorkspace(workspace, `program: execve.bpf.c\nsetup:\n  - shell: "echo setup >> ${marker}"\ntests:\n  - name: would touch the marker\n    shell: "echo trigger >> ${marker}"\n    expect:\n      - count: ">= 0"\n`);
    server = await startCodeServer({ workspace, workspaceTrust: true });
    browser = await launchBrowser();
    page = await openWorkbench(browser, server);
  }, 120_000);

  afterAll(async () => {
    if (page) await screenshot(page, 'ui-livetests-restricted-last').catch(() => undefined);
    await browser?.close();
    await server?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('discovers the test; Run All Tests asks for trust and, declined, runs nothing', async () => {
    const tree = await showTests(page, ['would touch the marker']);
    await runCommand(page, 'Test: Run All Tests');
    // VS Code asks first whether to trust the folder (the test run request goes through
    // Workspace Trust before any controller sees it); declining runs nothing.
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Running tests may execute code in your workspace' }).first();
    await dialog.waitFor({ timeout: 30_000 });
    await screenshot(page, 'ui-livetests-restricted');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForTimeout(3000);
    const row = tree.locator('.monaco-list-row', { hasText: 'would touch the marker' }).first();
    expect(await row.locator('.codicon-testing-passed-icon, .codicon-testing-failed-icon, .codicon-testing-error-icon').count()).toBe(0);
    expect(fs.existsSync(path.join(base, 'marker'))).toBe(false);
  }, 240_000);
});
