// Raw reads of what the app stored in IndexedDB, for specs that check the stored form itself.
import type { Page } from '@playwright/test';

/** Which form each stored packet chunk record has: `cols:N` (column chunk of N rows) or `packets:N` (Packet objects, schema v1/v2). */
export function chunkForms(page: Page): Promise<string[]> {
  return readStored(page, 'chunk-forms', '');
}

/** Length and FNV-1a hash ("len:hash") of every raw frame stored for the capture imported from `fileName`, in order. */
export function storedFrameHashes(page: Page, fileName: string): Promise<string[]> {
  return readStored(page, 'frame-hashes', fileName);
}

/** One read in the page (code passed to page.evaluate cannot call helpers of this file, so both reads live here). */
function readStored(page: Page, what: 'chunk-forms' | 'frame-hashes', fileName: string): Promise<string[]> {
  return page.evaluate(
    ([what, fileName]) =>
      new Promise<string[]>((resolve, reject) => {
        const g = globalThis as any;
        const open = g.indexedDB.open('tandem');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const done = (out: string[]): void => { db.close(); resolve(out); };
          if (what === 'chunk-forms') {
            const req = db.transaction('packetChunks', 'readonly').objectStore('packetChunks').getAll();
            req.onsuccess = () => done(req.result.map((r: any) => (r.cols ? `cols:${r.cols.n}` : '') + (r.packets ? `packets:${r.packets.length}` : '')));
            return;
          }
          const tx = db.transaction(['captures', 'frameChunks'], 'readonly');
          const caps = tx.objectStore('captures').getAll();
          caps.onsuccess = () => {
            const cap = caps.result.filter((x: any) => x.fileName === fileName).pop();
            const req = tx.objectStore('frameChunks').getAll(g.IDBKeyRange.bound([cap.id, 0], [cap.id, Number.MAX_SAFE_INTEGER]));
            req.onsuccess = () => {
              const out: string[] = [];
              for (const r of req.result) {
                const all = new Uint8Array(r.bytes);
                for (let i = 0; i + 1 < r.offsets.length; i++) {
                  const f = all.subarray(r.offsets[i], r.offsets[i + 1]);
                  let h = 0x811c9dc5;
                  for (let j = 0; j < f.length; j++) h = Math.imul(h ^ f[j], 0x01000193) >>> 0;
                  out.push(`${f.length}:${h}`);
                }
              }
              done(out);
            };
          };
        };
      }),
    [what, fileName] as const,
  );
}
