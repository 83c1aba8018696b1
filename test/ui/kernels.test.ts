// The Targets view's Kernels group in a real VS Code (code-server + Chromium): the four VM
// kernels with their state; selecting the arm64 16 KiB-page one boots it, probes it (aarch64,
// page size 16384) and the lint follows its page size in the editor; Stop VM powers it off.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheRoot } from '../../core/util/cache';
import { catalogueKernel, guestStatus, stopGuest } from '../../core/transport/qemu/index';
import { available } from '../support/prereq';
import { goToLine, launchBrowser, openFile, openWorkbench, pickQuickItem, problems, replaceCurrentLine, runCommand, screenshot, startCodeServer, type CodeServer } from '../support/codeServer';

const ARM = catalogueKernel('qemu:debian-6.12-arm64-16k');

describe.skipIf(!available('browser') || !available('qemu'))('Kernels in the Targets view (code-server)', () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let wasRunning = false;

  beforeAll(async () => {
    wasRunning = (await guestStatus(ARM)).state === 'running';
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-vm-'));
    const template = path.join(__dirname, '../../bpf-templates/execve');
    for (const f of ['execve.bpf.c', 'execve.h']) fs.copyFileSync(path.join(template, f), path.join(workspace, f));
    // The editor's HOME is a fresh one; its cache is this user's, where setup put the kernels.
    server = await startCodeServer({ workspace, env: { RINGBUF_STUDIO_CACHE: cacheRoot(), RINGBUF_STUDIO_VM_IDLE: '120' } });
    browser = await launchBrowser();
    page = await openWorkbench(browser, server);
  }, 120_000);

  afterAll(async () => {
    if (page) await screenshot(page, 'ui-kernels-last').catch(() => undefined);
    await browser?.close();
    await server?.stop();
    if (!wasRunning) await stopGuest(ARM);
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('lists the four kernels with their state under Kernels', async () => {
    await openFile(page, 'execve.bpf.c'); // activates the extension
    await runCommand(page, 'Ringbuf Studio: Focus on Targets View');
    const tree = page.locator('.pane', { hasText: 'Targets' }).locator('.monaco-list').first();
    await tree.locator('.monaco-list-row', { hasText: 'Kernels' }).first().waitFor({ timeout: 30_000 });
    for (const name of ['qemu:debian-5.10', 'qemu:debian-6.1', 'qemu:debian-6.12', 'qemu:debian-6.12-arm64-16k']) {
      const row = tree.locator('.monaco-list-row', { hasText: name }).first();
      await row.waitFor({ timeout: 20_000 });
      expect(await row.innerText()).toMatch(/not downloaded|cached|booting|running/);
    }
    expect(await tree.locator('.monaco-list-row', { hasText: 'qemu:debian-6.12-arm64-16k' }).first().innerText()).toMatch(/aarch64, 16 KiB pages/);
    await screenshot(page, 'ui-kernels-group');
  });

  it('selecting the arm64 16 KiB kernel boots and probes it; the lint then checks ring sizes against 16384', async () => {
    const tree = page.locator('.pane', { hasText: 'Targets' }).locator('.monaco-list').first();
    await tree.locator('.monaco-list-row', { hasText: 'qemu:debian-6.12-arm64-16k' }).first().click();
    await tree.locator('.monaco-list-row', { hasText: 'page size' }).filter({ hasText: '16384' }).first().waitFor({ timeout: 180_000 });
    await tree.locator('.monaco-list-row', { hasText: 'arch' }).filter({ hasText: 'aarch64' }).first().waitFor();
    await tree.locator('.monaco-list-row', { hasText: 'qemu:debian-6.12-arm64-16k' }).filter({ hasText: 'running' }).first().waitFor({ timeout: 15_000 });
    expect((await guestStatus(ARM)).state).toBe('running');
    await screenshot(page, 'ui-kernels-arm64-probed');

    await openFile(page, 'execve.bpf.c');
    const line = fs.readFileSync(path.join(workspace, 'execve.bpf.c'), 'utf8').split('\n').findIndex((l) => /__uint\(\s*max_entries/.test(l)) + 1;
    await goToLine(page, line);
    await replaceCurrentLine(page, '\t__uint(max_entries, 2 * 4096);');
    const rows = await problems(page);
    const warning = rows.filter({ hasText: 'RB002' }).filter({ hasText: '16384' }).first();
    await warning.waitFor({ timeout: 30_000 });
    await screenshot(page, 'ui-kernels-lint-16k');
  }, 240_000);

  it('Stop VM powers the guest off and the group shows it cached', async () => {
    await runCommand(page, 'Ringbuf Studio: Stop VM');
    await pickQuickItem(page, 'qemu:debian-6.12-arm64-16k');
    const tree = page.locator('.pane', { hasText: 'Targets' }).locator('.monaco-list').first();
    await runCommand(page, 'Ringbuf Studio: Focus on Targets View');
    await tree.locator('.monaco-list-row', { hasText: 'qemu:debian-6.12-arm64-16k' }).filter({ hasText: 'cached' }).first().waitFor({ timeout: 30_000 });
    expect((await guestStatus(ARM)).state).toBe('cached');
  }, 60_000);
});
