// Memory that is written before it is read (frames being assembled, output chunks): in
// Node a plain Uint8Array over memory Buffer did not zero-fill; elsewhere (a webview) a
// zeroed one.

export function allocUninitialized(n: number): Uint8Array {
  return typeof Buffer === 'function' ? new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n) : new Uint8Array(n);
}
