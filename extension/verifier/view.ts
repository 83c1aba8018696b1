// The Verifier view: per target, each program's verdict; under a rejected program the
// lines of its failing path and under each line its instructions with their state. A click
// shows the line in the editor.
import path from 'node:path';
import * as vscode from 'vscode';
import type { ProgramVerdict, TargetVerdict } from '../../core/run/verify';
import type { PathLine, ShownStep } from '../../core/verifier/explain';
import { code, figure, stepLabel, words } from './present';
import type { FileResult } from './state';

type Node =
  | { kind: 'target'; uri: string; target: TargetVerdict }
  | { kind: 'program'; uri: string; target: string; program: ProgramVerdict }
  | { kind: 'line'; uri: string; target: string; program: string; line: PathLine; lineText: string }
  | { kind: 'step'; uri: string; line: PathLine; step: ShownStep; last: boolean };

/** The path a rejected program took to its error (a program that loads has none worth listing). */
function failingPath(p: ProgramVerdict): PathLine[] {
  return p.loaded ? [] : (p.explanation?.path ?? []);
}

export class VerifierView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private shown: { uri: string; result: FileResult } | undefined;

  constructor(private readonly sourceLine: (file: string, line: number) => string) {}

  show(uri: string, result: FileResult | undefined): void {
    this.shown = result ? { uri, result } : undefined;
    this.changed.fire(undefined);
  }

  get current(): { uri: string; result: FileResult } | undefined {
    return this.shown;
  }

  getChildren(node?: Node): Node[] {
    const s = this.shown;
    if (!s) return [];
    if (!node) return s.result.verdicts.map((target) => ({ kind: 'target', uri: s.uri, target }));
    if (node.kind === 'target') return node.target.programs.map((program) => ({ kind: 'program', uri: node.uri, target: node.target.target, program }));
    if (node.kind === 'program') {
      return failingPath(node.program).map((line) => ({ kind: 'line', uri: node.uri, target: node.target, program: node.program.name, line, lineText: this.sourceLine(line.file, line.line) }));
    }
    if (node.kind === 'line') return node.line.steps.map((step, i) => ({ kind: 'step', uri: node.uri, line: node.line, step, last: i === node.line.steps.length - 1 }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'target':
        return this.targetItem(node.target);
      case 'program':
        return this.programItem(node.uri, node.target, node.program);
      case 'line': {
        const item = new vscode.TreeItem(`${path.basename(node.line.file)}:${node.line.line}`, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = node.lineText.trim();
        item.tooltip = `${node.line.steps.length} instruction${node.line.steps.length === 1 ? '' : 's'}${node.line.pass > 1 ? `, pass ${node.line.pass}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(node.line.steps.some((s) => s.failing) ? 'error' : 'debug-stackframe-dot');
        item.command = { command: 'ringbufStudio.verifier.reveal', title: 'Show line', arguments: [node.line.file, node.line.line] };
        item.contextValue = 'verifierLine';
        return item;
      }
      case 'step': {
        const { label, description } = stepLabel(node.step);
        const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
        item.description = description;
        item.tooltip = new vscode.MarkdownString(node.step.slots.map((s) => `- ${code(`${s.name} = ${s.value}`)} — ${words(s.summary)}`).join('\n') || 'no registers printed');
        item.iconPath = new vscode.ThemeIcon(node.step.failing ? 'error' : 'symbol-operator');
        item.command = { command: 'ringbufStudio.verifier.reveal', title: 'Show line', arguments: [node.line.file, node.line.line] };
        return item;
      }
    }
  }

  private targetItem(t: TargetVerdict): vscode.TreeItem {
    const item = new vscode.TreeItem(t.target, vscode.TreeItemCollapsibleState.Expanded);
    item.description = t.failure ? `could not verify: ${t.failure.message}` : t.kernel ? `Linux ${t.kernel}` : '';
    item.iconPath = new vscode.ThemeIcon(t.failure ? 'warning' : 'server');
    return item;
  }

  private programItem(uri: string, target: string, p: ProgramVerdict): vscode.TreeItem {
    const rejected = !p.loaded;
    const item = new vscode.TreeItem(p.name, failingPath(p).length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    const figures = p.insnsProcessed !== null ? ` · ${figure(p.insnsProcessed)} instructions, ${figure(p.totalStates ?? 0)} states` : '';
    item.description = rejected ? `rejected: ${p.error?.category ?? 'error'}${figures}` : `loads${figures}`;
    item.tooltip = p.error ? `${p.error.message}\n\n${p.error.explanation}\nFix: ${p.error.fix}` : 'The verifier accepted it.';
    item.iconPath = new vscode.ThemeIcon(rejected ? 'error' : 'pass');
    item.command = { command: 'ringbufStudio.verifier.focus', title: 'Show on the source', arguments: [uri, target, p.name] };
    item.contextValue = 'verifierProgram';
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
