// "Ringbuf Studio: Export to Go (bpf2go)…": picks a folder and writes the bpf2go
// package there (core/export). Glue only.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { exportGoPackage, type ExportGoResult } from '../core/export/goPackage';
import { StudioError } from '../core/util/errors';
import type { Config } from './config';
import type { Log } from './log';
import { withCancellableProgress } from './progress';

export async function exportToGo(log: Log, config: Config, program: vscode.TextDocument | undefined): Promise<void> {
  if (!program) return;
  if (program.isDirty) await program.save();
  const file = program.uri.fsPath;
  const stem = path.basename(file).replace(/\.bpf\.c$|\.c$/, '');
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Export Here',
    title: `Export ${path.basename(file)} as a Go package (an empty folder, or one to create ${stem}-go in)`,
    defaultUri: vscode.Uri.file(path.dirname(path.dirname(file))),
  });
  const folder = picked?.[0]?.fsPath;
  if (!folder) return;
  const outDir = isEmptyDir(folder) ? folder : path.join(folder, `${stem}-go`);
  const clangPath = config.current.clangPath;
  const run = (force: boolean): Promise<ExportGoResult> =>
    withCancellableProgress(`Ringbuf Studio: exporting ${path.basename(file)} to Go`, () =>
      exportGoPackage({ file, outDir, force, ...(clangPath ? { clangPath } : {}) }),
    );
  let result: ExportGoResult;
  try {
    result = await run(false);
  } catch (err) {
    if (!(err instanceof StudioError) || err.code !== 'EEXPORTEXISTS') throw err;
    const choice = await vscode.window.showWarningMessage(`${err.message}. Overwrite them?`, { modal: true }, 'Overwrite');
    if (choice !== 'Overwrite') return;
    result = await run(true);
  }
  log.info(`exported ${file} → ${result.dir} (bpf2go ident ${result.ident}; ${Object.entries(result.goTypes).map(([m, t]) => `${m}: ${t ?? 'hex'}`).join(', ')})`);
  for (const n of result.notes) log.warn(`export-go: ${n}`);
  const open = await vscode.window.showInformationMessage(
    `Ringbuf Studio: Go package written to ${vscode.workspace.asRelativePath(result.dir)} — build with go generate && go build.`,
    'Open README',
  );
  if (open) await vscode.window.showTextDocument(vscode.Uri.file(path.join(result.dir, 'README.md')));
}

function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    // Not a readable folder: export into <folder>/<stem>-go, which reports the real error.
    return false;
  }
}
