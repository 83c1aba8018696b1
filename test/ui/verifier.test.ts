// The Verifier explorer in a real VS Code (code-server + Chromium), as a user meets it:
// Verify Program on a program the kernel rejects → the failing path on the source, the
// reason inline, the registers in the hover, the Verifier view that jumps to the line, the
// CodeLens per SEC; a program that hits the complexity limit → its heat map; a Run the
// verifier rejects → the same path; a Run of a program near the limit → its figures in the
// CodeLens, the heat map one click away, and the change after an edit ("+10 %").
// Screenshots in test-results/ui-verifier-*.png.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { available } from '../support/prereq';
import { goToLine, launchBrowser, openFile, openWorkbench, replaceCurrentLine, runCommand, screenshot, startCodeServer, type CodeServer } from '../support/codeServer';

const fixtures = path.join(__dirname, '..', 'fixtures', 'verifier');
const lineOf = (file: string, marker: string): number => fs.readFileSync(path.join(fixtures, file), 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;

/** The `::after` texts VS Code draws for decorations on visible lines (the inline hint is one). */
async function afterTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('.editor-instance .view-lines span'))) {
      const c = getComputedStyle(el, '::after').content;
      if (c && c !== 'none' && c !== 'normal') out.push(c);
    }
    return out;
  });
}

/** Gutter decorations whose icon is one of the heat map's levels. */
async function heatIcons(page: Page): Promise<number> {
  return page.evaluate(() => Array.from(document.querySelectorAll('.editor-instance .margin div')).filter((el) => /heat-\d\.svg/.test(getComputedStyle(el).backgroundImage)).length);
}

async function waitUntil<T>(what: string, poll: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await poll();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe.skipIf(!available('browser') || !available('bpf'))('Verifier explorer in code-server', () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let workspace: string;

  beforeAll(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-ui-verifier-'));
    for (const f of ['null_check.bpf.c', 'too_complex.bpf.c', 'invalid_access.bpf.c', 'near_limit.bpf.c']) fs.copyFileSync(path.join(fixtures, f), path.join(workspace, f));
    server = await startCodeServer({ workspace });
    browser = await launchBrowser();
    page = await openWorkbench(browser, server);
  });

  afterAll(async () => {
    if (page) await screenshot(page, 'ui-verifier-last').catch(() => undefined);
    await browser?.close();
    await server?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('Verify Program: the failing line says why and what fixes it, the CodeLens gives the verdict', async () => {
    await openFile(page, 'null_check.bpf.c');
    await runCommand(page, 'Ringbuf Studio: Verify Program (Load Without Attaching)');
    const hint = await waitUntil('the inline hint', async () => (await afterTexts(page)).find((t) => t.includes('null-check:')), 120_000);
    expect(hint).toMatch(/R1 may be NULL \(ringbuf_mem_or_null\) .*Fix: Check the result of bpf_ringbuf_reserve\(\)/);
    const lens = page.locator('.contentWidgets .codelens-decoration', { hasText: 'rejected on local kernel' }).first();
    await lens.waitFor({ timeout: 30_000 });
    expect(await lens.innerText()).toContain(`null-check at line ${lineOf('null_check.bpf.c', 'REJECTED HERE')} · 8 instructions`);
    await screenshot(page, 'ui-verifier-1-inline-hint');
  });

  it('hovering the failing line shows each instruction with its registers, the failing one in bold', async () => {
    await page.locator('.editor-instance .view-line', { hasText: 'REJECTED HERE' }).first().locator('span', { hasText: 'bpf_get_current_comm' }).first().hover();
    const hover = page.locator('.monaco-hover:visible', { hasText: 'Failing path' }).first();
    await hover.waitFor({ timeout: 20_000 });
    const text = await hover.innerText();
    expect(text).toMatch(/Verifier: null-check/);
    expect(text).toContain('R1 = ringbuf_mem_or_null(id=');
    expect(text).toMatch(/a reserved ring buffer record or NULL \(32 bytes/);
    const bold = await hover.locator('strong').allInnerTexts();
    expect(bold.some((b) => b.includes('call bpf_get_current_comm#16'))).toBe(true);
    await screenshot(page, 'ui-verifier-2-hover');
    await page.keyboard.press('Escape');
  });

  it('the Verifier view lists the path with each instruction\'s state and jumps to its line', async () => {
    // The Ringbuf Studio side bar holds the Targets and Verifier views.
    await page.locator('.activitybar .action-label[aria-label="Ringbuf Studio"]').click();
    const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /verifier/i }) }).first();
    const tree = pane.locator('.monaco-list').first();
    const program = tree.locator('.monaco-list-row', { hasText: 'rbs_v_null' }).first();
    await program.waitFor({ timeout: 20_000 });
    expect(await program.innerText()).toMatch(/rejected: null-check · 8 instructions/);
    const reserveLine = lineOf('null_check.bpf.c', 'bpf_ringbuf_reserve(');
    const row = tree.locator('.monaco-list-row', { hasText: `null_check.bpf.c:${reserveLine}` }).first();
    await row.waitFor();
    await row.locator('.monaco-tl-twistie').click();
    const call = tree.locator('.monaco-list-row', { hasText: 'call bpf_ringbuf_reserve' }).first();
    await call.waitFor();
    expect(await call.innerText()).toMatch(/R0=ringbuf_mem_or_null\(id=\d+,ref_obj_id=\d+,sz=32\)/);
    await screenshot(page, 'ui-verifier-3-view');
    await call.click();
    await page.locator('.statusbar-item', { hasText: `Ln ${reserveLine}, Col 1` }).first().waitFor({ timeout: 10_000 });
  });

  it('a program at the 1M-instruction limit: too-complex, and the branching line is hottest in the gutter', async () => {
    await openFile(page, 'too_complex.bpf.c');
    await runCommand(page, 'Ringbuf Studio: Verify Program (Load Without Attaching)');
    const hint = await waitUntil('the too-complex hint', async () => (await afterTexts(page)).find((t) => t.includes('too-complex:')), 180_000);
    expect(hint).toMatch(/1 million instructions/);
    await page.locator('.contentWidgets .codelens-decoration', { hasText: '1\u202f000\u202f001 instructions' }).first().waitFor({ timeout: 30_000 });
    expect(await heatIcons(page)).toBeGreaterThan(0);
    await page.locator('.editor-instance .view-line', { hasText: 'BRANCHES HERE' }).first().locator('span', { hasText: 'bpf_get_prandom_u32' }).first().hover();
    const hover = page.locator('.monaco-hover:visible', { hasText: 'Verifier visits to this line' }).first();
    await hover.waitFor({ timeout: 20_000 });
    expect(await hover.innerText()).toMatch(/Verifier visits to this line: \d[\d\u202f]* \(\d+\.\d % of the \d[\d\u202f]* instructions on the failing path\)/);
    await screenshot(page, 'ui-verifier-4-heat-map');
    await page.keyboard.press('Escape');
  });

  it('a Run the verifier rejects shows the same path and reason', async () => {
    await openFile(page, 'invalid_access.bpf.c');
    await runCommand(page, 'Ringbuf Studio: Run on Local Host');
    const hint = await waitUntil('the invalid-access hint', async () => (await afterTexts(page)).find((t) => t.includes('invalid-access:')), 120_000);
    expect(hint).toMatch(/R7 is a plain number/);
    await screenshot(page, 'ui-verifier-5-run-rejected');
  });

  const lens = (text: string | RegExp) => page.locator('.contentWidgets .codelens-decoration', { hasText: text }).first();

  it('a Run of a program near the limit: its figures in the CodeLens at once, and the heat map one click away', async () => {
    await openFile(page, 'near_limit.bpf.c');
    await runCommand(page, 'Ringbuf Studio: Run on Local Host');
    // A Run asks the verifier for its statistics only: figures, no heat map yet.
    const figures = lens('loads on local kernel');
    await figures.waitFor({ timeout: 120_000 });
    expect(await figures.innerText()).toMatch(/loads on local kernel: 8\d\d\u202f\d{3} instructions processed \(8\d % of the limit\) · 8\u202f0\d\d states, peak 8\u202f0\d\d/);
    expect(await heatIcons(page)).toBe(0);
    await runCommand(page, 'Ringbuf Studio: Stop');
    await runCommand(page, 'View: Single Column Editor Layout'); // the Live Events panel joins the tabs
    await openFile(page, 'near_limit.bpf.c');
    const offer = lens('Heat map');
    expect(await offer.innerText()).toMatch(/Heat map \(slow: a level 2 log of 8\d\d\u202f\d{3} instructions\)/);
    await offer.locator('a', { hasText: 'Heat map' }).click();
    await waitUntil('the heat map', async () => ((await heatIcons(page)) > 0 ? true : undefined), 240_000);
    await lens(/Heat map/).waitFor({ state: 'detached', timeout: 30_000 });
    await goToLine(page, lineOf('near_limit.bpf.c', 'HOT LOOP'));
    await screenshot(page, 'ui-verifier-6-near-limit-heat-map');
    const loop = page.locator('.editor-instance .view-line', { hasText: 'HOT LOOP' }).first();
    await loop.locator('span', { hasText: 'slots' }).first().hover();
    const hover = page.locator('.monaco-hover:visible', { hasText: 'Verifier visits to this line' }).first();
    await hover.waitFor({ timeout: 20_000 });
    // The kernel kept the log's end (48 MiB): the share is of the logged instructions.
    const said = await hover.innerText();
    expect(said).toMatch(/Verifier visits to this line: \d[\d\u202f]* \(\d{2}\.\d % of the \d[\d\u202f]* instructions in the log — the verifier processed 8\d\d\u202f\d{3}; the log kept the last ones\)/);
    expect(said).not.toMatch(/Failing path/); // a program that loads has its heat map, no path
    await screenshot(page, 'ui-verifier-6b-near-limit-hover');
    await page.keyboard.press('Escape');
  });

  it('after an edit, Verify compares with the last build: +12 % instructions processed', async () => {
    // 14 instructions per iteration: 60 000 → 67 200 iterations is 840 015 → 940 815 instructions.
    await goToLine(page, lineOf('near_limit.bpf.c', '#define ITERATIONS 60000'));
    await replaceCurrentLine(page, '#define ITERATIONS 67200');
    await runCommand(page, 'Ringbuf Studio: Verify Program (Load Without Attaching)');
    const changed = lens('+12 % instructions processed');
    await changed.waitFor({ timeout: 120_000 });
    expect(await changed.innerText()).toMatch(/loads on local kernel: 9\d\d\u202f\d{3} instructions processed \(9\d % of the limit\), \+12 % instructions processed/);
    await screenshot(page, 'ui-verifier-7-change-since-last-build');
  });
});
