// Ringbuf Studio: New Program from Template… — QuickPick → folder → scaffold → open.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { listTemplates, scaffoldTemplate } from '../core/templates';
import type { Config } from './config';
import type { Log } from './log';

export async function newProgramFromTemplate(log: Log, config: Config, preset?: { template?: string; folder?: string }): Promise<vscode.Uri | undefined> {
  let name = preset?.template;
  if (!name) {
    const templates = listTemplates();
    const choice = await vscode.window.showQuickPick(
      templates.map((t) => ({ label: t.name, description: `${t.title} · Linux ≥ ${t.minKernel}`, detail: t.description })),
      { placeHolder: 'Template for the new eBPF program', matchOnDescription: true, matchOnDetail: true },
    );
    if (!choice) return undefined;
    name = choice.label;
  }

  let dir = preset?.folder;
  if (!dir) {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (base) {
      // Default: a new sub-folder of the workspace named after the template, confirmable in one keystroke.
      const suggested = uniqueDir(path.join(base.fsPath, name));
      const typed = await vscode.window.showInputBox({
        title: `New ${name} program`,
        prompt: 'Folder for the new program (created if missing). Press Enter to accept.',
        value: suggested,
        valueSelection: [suggested.length - path.basename(suggested).length, suggested.length],
        validateInput: (v) => (isNonEmptyDir(v.trim()) ? 'this folder is not empty: pick a new or empty one' : undefined),
      });
      if (!typed) return undefined;
      dir = typed.trim();
    } else {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Create Here' });
      if (!picked?.[0]) return undefined;
      dir = picked[0].fsPath;
    }
  }

  try {
    const clangPath = config.current.clangPath;
    const result = await scaffoldTemplate(name, dir, clangPath ? { clangPath } : {});
    log.info(`new ${name} program in ${dir}: ${result.files.map((f) => path.basename(f)).join(', ')}`);
    const doc = await vscode.workspace.openTextDocument(result.main);
    await vscode.window.showTextDocument(doc, { preview: false });
    return doc.uri;
  } catch (err) {
    await log.notifyError(`new ${name} program`, err);
    return undefined;
  }
}

function isNonEmptyDir(p: string): boolean {
  try {
    return fs.readdirSync(p).length > 0;
  } catch {
    // Missing or unreadable: not a folder with files in it (scaffolding reports the real error).
    return false;
  }
}

function uniqueDir(p: string): string {
  if (!isNonEmptyDir(p)) return p;
  for (let i = 2; ; i++) if (!isNonEmptyDir(`${p}-${i}`)) return `${p}-${i}`;
}
