// Workspace Trust. In Restricted Mode Ringbuf Studio lints (source layer, no clang) and
// does nothing that compiles or runs: commands that would say why in one line and offer
// the editor's own trust dialog. VS Code itself keeps the workspace's values of the
// restricted settings (package.json restrictedConfigurations) away until trust is granted.
import * as vscode from 'vscode';

export const manageTrustLabel = 'Manage Workspace Trust';

export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

/**
 * For what compiles or runs: true when trusted; otherwise shows
 * "<action> is off in Restricted Mode: <why>" with "Manage Workspace Trust" and returns false.
 */
export async function allowedByTrust(action: string, why: string): Promise<boolean> {
  if (isTrusted()) return true;
  const choice = await vscode.window.showWarningMessage(`Ringbuf Studio: ${restrictedReason(action, why)}`, manageTrustLabel);
  if (choice === manageTrustLabel) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

/** The one line that says why `action` is off in Restricted Mode. */
export function restrictedReason(action: string, why: string): string {
  return `${action} is off in Restricted Mode: ${why}. Trust this folder to use it.`;
}
