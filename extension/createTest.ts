// Create Test from Filter (the Live Events panel's "Create Test…" button, or the command):
// asks for the test's name and trigger, adds the test to the program's .rbtest.yaml
// (core/livetest/addTest.ts keeps the file's content and comments) and reveals it.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { addLiveTest, countForObserved, liveTestFileFor, liveTestNames, suggestTestName, testNameProblem } from '../core/livetest/addTest';

/** Resolves to what to tell the person, or undefined when they cancelled. */
export async function createTestFromFilter(programFile: string, request: { filter: string; observed: number }): Promise<string | undefined> {
  const testFile = liveTestFileFor(programFile);
  const uri = vscode.Uri.file(testFile);
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  const existing = open ? open.getText() : fs.existsSync(testFile) ? await fs.promises.readFile(testFile, 'utf8') : undefined;
  const names = existing === undefined ? [] : liveTestNames(existing);
  const count = countForObserved(request.observed);
  const name = await vscode.window.showInputBox({
    title: `New live test in ${path.basename(testFile)}`,
    prompt: `where: ${request.filter.trim() || '(every event)'} — count: ${count} (${request.observed} matching event${request.observed === 1 ? '' : 's'} in the panel)`,
    value: suggestTestName(request.filter, request.observed, names),
    validateInput: (v) => testNameProblem(v, names),
  });
  if (name === undefined) return undefined;
  const trigger = await vscode.window.showInputBox({
    title: `Trigger of "${name.trim()}"`,
    prompt: 'The command that makes the program emit these events, run on the target after attach (e.g. /bin/true). Leave empty for a placeholder marked TODO.',
    placeHolder: '/bin/true',
  });
  if (trigger === undefined) return undefined;
  const { text, line } = addLiveTest(existing, programFile, { name: name.trim(), where: request.filter, observed: request.observed, trigger });
  if (open) {
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(0, 0, open.lineCount, 0), text);
    await vscode.workspace.applyEdit(edit);
    await open.save();
  } else {
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const at = new vscode.Range(line - 1, 0, line - 1, 0);
  await vscode.window.showTextDocument(doc, { selection: at, preview: false });
  return `added "${name.trim()}" to ${path.basename(testFile)}${trigger.trim() ? '' : ' (replace the placeholder trigger)'}`;
}
