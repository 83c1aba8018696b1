// `npm run demo` as a user runs it: as root, no stdin; it must print the URL of a
// working code-server with a scaffolded workspace, serve it, and stop on Ctrl-C.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeServerMissing, freePort, launchBrowser, repoRoot, screenshot, webview } from '../support/codeServer';
import { available } from '../support/prereq';

describe.skipIf(!available('browser'))('npm run demo', () => {
  const demoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-demo-'));
  afterAll(() => fs.rmSync(demoDir, { recursive: true, force: true }));

  it('prints the URL of a code-server with the execve workspace, serves it, and stops on Ctrl-C', async () => {
    expect(codeServerMissing()).toBeNull();
    const port = await freePort();
    const child = spawn('bash', ['scripts/demo.sh'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), DEMO_DIR: demoDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so Ctrl-C reaches the script like a terminal's would
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 240_000;
      while (!out.includes('press Ctrl-C to stop')) {
        if (child.exitCode !== null) throw new Error(`demo exited early (${child.exitCode}):\n${out}`);
        if (Date.now() > deadline) throw new Error(`demo not ready in time:\n${out}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const url = `http://127.0.0.1:${port}/?folder=${demoDir}`;
      expect(out).toContain(url);
      expect(out).toContain('Ringbuf Studio: Run on Local Host');
      expect(fs.existsSync(path.join(demoDir, 'execve', 'execve.bpf.c'))).toBe(true);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/code-server|vscode/i);
      // The terminal part: five real events printed by the CLI, one header line with the BTF field names.
      expect(out).toMatch(/^\s*\S.*\bcomm\b.*$/m);

      // The editor part: opening the URL is all a user does; the program runs by itself and
      // the Live Events panel shows the demo's own execs of /bin/true.
      const browser = await launchBrowser();
      try {
        const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
        const tab = await context.newPage();
        await tab.goto(url);
        await tab.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await webview(tab).locator('.row[role=row]', { hasText: 'true' }).first().waitFor({ timeout: 120_000 });
        await screenshot(tab, 'demo-live-events');
      } finally {
        await browser.close();
      }
    } finally {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGINT');
    }
    expect(await exited).not.toBeNull();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
