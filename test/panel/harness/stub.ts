// Stub of the VS Code webview API for the panel harness page (served as JavaScript by
// test/panel/harness.ts and loaded with the page's nonce before the panel bundle).
// Messages the panel posts go to the test process (window.__harnessSend, exposed by
// Playwright, which hands them to the real core/panel/model.ts); messages from the
// host model arrive through window.__harness.deliver() with typed arrays encoded as
// {$u8: base64} / {$u32: [...]}.
interface HarnessWindow {
  __harness: { sent: unknown[]; deliver(wire: unknown): void; deliverRaw(data: unknown): void };
  __harnessSend?: (m: unknown) => void;
  acquireVsCodeApi: () => { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): unknown };
}

(() => {
  const w = window as unknown as HarnessWindow;
  const sent: unknown[] = [];
  let saved: unknown;
  const revive = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$u8 === 'string') {
        const bin = atob(o.$u8);
        const out = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
        return out;
      }
      if (Array.isArray(o.$u32)) return Uint32Array.from(o.$u32 as number[]);
      const copy: Record<string, unknown> = {};
      for (const k of Object.keys(o)) copy[k] = revive(o[k]);
      return copy;
    }
    return v;
  };
  w.__harness = {
    sent,
    deliver: (wire) => window.dispatchEvent(new MessageEvent('message', { data: revive(wire) })),
    deliverRaw: (data) => window.dispatchEvent(new MessageEvent('message', { data })),
  };
  let acquired = false;
  w.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may be called only once');
    acquired = true;
    return {
      postMessage: (m) => {
        const copy: unknown = JSON.parse(JSON.stringify(m));
        sent.push(copy);
        w.__harnessSend?.(copy);
      },
      getState: () => saved,
      setState: (s) => (saved = s),
    };
  };
})();
