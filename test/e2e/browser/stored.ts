// Raw reads of what the app stored in IndexedDB, for specs that check the stored form itself.
import type { Page } from '@playwright/test';

/** Which form each stored packet chunk record has: `cols:N` (column chunk of N rows) or `packets:N` (Packet objects, schema v1/v2). */
export async function chunkForms(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const g = globalThis as any;
        const open = g.indexedDB.open('tandem');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('packetChunks', 'readonly').objectStore('packetChunks').getAll();
          req.onsuccess = () => {
            db.close();
            resolve(req.result.map((r: any) => (r.cols ? `cols:${r.cols.n}` : '') + (r.packets ? `packets:${r.packets.length}` : '')));
          };
        };
      }),
  );
}
