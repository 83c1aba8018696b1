// Kept only because extension/sshPrompts.ts (owned with the SSH transport) imports its
// callback type from here. The extension calls core's public modules directly; delete
// this file once sshPrompts.ts imports ConnectCallbacks from './connection'.
export type { ConnectCallbacks } from './connection';
