// Serves the built renderer (out/renderer) under app://tandem/. A privileged standard scheme gives
// the page a real origin, so ES module scripts, module workers and IndexedDB work (file:// gives
// an opaque origin and breaks them). No `electron` import: the main process passes requests in,
// and unit tests call the same functions under Node with real files.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { APP_HOST, APP_SCHEME } from '../../shared/ipc/contract.ts';
import { SECURITY_HEADERS } from './security.ts';

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeTypeFor(file: string): string {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type ResolvedRequest = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404; reason: string };

/**
 * Maps an app:// URL to a file below `root`, or says why not. Refuses other hosts, encoded
 * separators, '..' segments (also when percent-encoded), NUL bytes, and anything that resolves
 * outside `root`. A path ending in '/' means its index.html. URL paths are confined; symlinks
 * are not chased (the build output has none, and whoever can write there owns the app anyway).
 */
export function resolveAppPath(root: string, url: string): ResolvedRequest {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, status: 400, reason: 'malformed URL' };
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) {
    return { ok: false, status: 403, reason: 'foreign origin' };
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return { ok: false, status: 400, reason: 'bad percent-encoding' };
  }
  if (pathname.includes('\0') || pathname.includes('\\')) {
    return { ok: false, status: 400, reason: 'forbidden character in path' };
  }
  const segments = pathname.split('/');
  if (segments.some((s) => s === '..' || s === '.')) {
    return { ok: false, status: 403, reason: 'dot segment in path' };
  }
  if (!pathname.startsWith('/')) pathname = '/' + pathname;
  if (pathname.endsWith('/')) pathname += 'index.html';

  const base = path.resolve(root);
  const file = path.resolve(base, '.' + pathname);
  if (!file.startsWith(base + path.sep)) {
    return { ok: false, status: 403, reason: 'outside the app root' };
  }
  return { ok: true, file };
}

function errorResponse(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' },
  });
}

/** Answers one app:// request from files under `root`. Never throws. */
export async function serveAppRequest(root: string, url: string, method = 'GET'): Promise<Response> {
  if (method !== 'GET' && method !== 'HEAD') return errorResponse(405, 'method not allowed');
  const resolved = resolveAppPath(root, url);
  if (!resolved.ok) return errorResponse(resolved.status, resolved.reason);
  try {
    const stat = await fs.stat(resolved.file);
    if (!stat.isFile()) return errorResponse(404, 'not found');
    const headers = {
      ...SECURITY_HEADERS,
      'Content-Type': mimeTypeFor(resolved.file),
      'Content-Length': String(stat.size),
      // Built assets carry content hashes; index.html must be fetched fresh after an update.
      'Cache-Control': resolved.file.endsWith('.html') ? 'no-cache' : 'max-age=31536000, immutable',
    };
    if (method === 'HEAD') return new Response(null, { status: 200, headers });
    const body = await fs.readFile(resolved.file);
    return new Response(body, { status: 200, headers });
  } catch {
    return errorResponse(404, 'not found');
  }
}
