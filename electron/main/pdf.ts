// report.pdf: prints self-contained report HTML with Chromium's PDF printer in a hidden window that
// runs no script and can load nothing but the report itself (policy in security.ts). The HTML is
// served from memory under the tandem-pdf: scheme of a private session.
import { BrowserWindow, session } from 'electron';
import { randomUUID } from 'node:crypto';
import { UserFacingError } from './ipc-dispatch.ts';
import { PDF_CSP, PDF_PARTITION, PDF_WEB_PREFERENCES, isPdfRequestAllowed, pdfDocumentUrl, pdfTokenOf } from './security.ts';

const LOAD_TIMEOUT_MS = 30_000;
const documents = new Map<string, string>();
let prepared = false;

function prepareSession(): void {
  if (prepared) return;
  prepared = true;
  const ses = session.fromPartition(PDF_PARTITION);
  ses.protocol.handle('tandem-pdf', (request) => {
    const token = pdfTokenOf(request.url);
    const html = token === undefined ? undefined : documents.get(token);
    if (html === undefined) return new Response('not found', { status: 404 });
    return new Response(html, {
      headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PDF_CSP, 'X-Content-Type-Options': 'nosniff' },
    });
  });
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isPdfRequestAllowed(details.url) }));
  ses.setPermissionRequestHandler((_c, _p, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

export async function printHtmlToPdf(html: string): Promise<Buffer> {
  prepareSession();
  const token = randomUUID();
  documents.set(token, html);
  const win = new BrowserWindow({ show: false, width: 1024, height: 1400, webPreferences: { ...PDF_WEB_PREFERENCES } });
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new UserFacingError('The report took too long to lay out for PDF.')), LOAD_TIMEOUT_MS);
    });
    try {
      await Promise.race([win.loadURL(pdfDocumentUrl(token)), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return await win.webContents.printToPDF({ printBackground: true, pageSize: 'A4', generateDocumentOutline: true });
  } finally {
    documents.delete(token);
    if (!win.isDestroyed()) win.destroy();
  }
}
