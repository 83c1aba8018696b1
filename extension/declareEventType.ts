// The panel's "Declare the event type…" link (records shown as hex): ask which struct
// the ring carries, add `__type(value, struct X);` to the map definition, and offer to
// run again so the next records decode with field names.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { declareEventTypeFix, eventTypeCandidates } from '../core/lint/declareEventType';
import type { Log } from './log';

/** Local headers the source includes with quotes: their structs are candidates too. */
async function headerCandidates(sourceFile: string, text: string): Promise<string[]> {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
    const name = m[1]!;
    if (name === 'vmlinux.h') continue; // thousands of kernel structs: not what a ring carries
    try {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.file(path.resolve(path.dirname(sourceFile), name)));
      out.push(...eventTypeCandidates(new TextDecoder().decode(bytes), name));
    } catch {
      // A generated or missing header: its structs are simply not offered.
    }
  }
  return out;
}

export async function declareEventTypeInteractively(log: Log, sourceFile: string, mapName: string): Promise<boolean> {
  if (!/\.c$/.test(sourceFile)) {
    log.tell('warn', `the run started from ${path.basename(sourceFile)}, not from C source; add __type(value, struct …); to the definition of map ${mapName} in its source.`);
    return false;
  }
  try {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(sourceFile));
    const text = doc.getText();
    const candidates = [...new Set([...eventTypeCandidates(text, sourceFile), ...(await headerCandidates(sourceFile, text))])];
    const picked =
      candidates.length > 0
        ? await vscode.window.showQuickPick(candidates, { title: `Event type of ring "${mapName}"`, placeHolder: 'Which struct does the program write into this ring?' })
        : await vscode.window.showInputBox({ title: `Event type of ring "${mapName}"`, prompt: 'The struct the program writes into this ring', value: 'struct event' });
    if (!picked) return false;
    const fix = declareEventTypeFix(text, sourceFile, mapName, picked);
    const edit = new vscode.WorkspaceEdit();
    for (const e of fix.edits) {
      edit.insert(doc.uri, new vscode.Position(e.range.line - 1, e.range.column - 1), e.newText);
    }
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error('the editor refused the edit');
    await doc.save();
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    const first = fix.edits[0];
    if (first) editor.revealRange(new vscode.Range(first.range.line - 1, 0, first.range.line, 0), vscode.TextEditorRevealType.InCenter);
    const again = await vscode.window.showInformationMessage(`Ringbuf Studio: ${fix.title}. Records decode with field names from the next run.`, 'Run Again');
    if (again) await vscode.commands.executeCommand('ringbufStudio.runAgain');
    return true;
  } catch (err) {
    await log.notifyError(`declare the event type of ${mapName}`, err);
    return false;
  }
}
