// Security policy of the desktop shell as pure functions: no `electron` import, so unit tests run
// them under plain Node (the electron package throws on import where its binary is missing).
import path from 'node:path';
import { APP_HOST, APP_SCHEME, isTrustedSenderUrl } from '../../shared/ipc/contract.ts';

export { isTrustedSenderUrl };

/** The page URL the window loads. */
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * Content Security Policy sent as a response header with every app:// resource. It matches the
 * renderer's <meta> policy (both apply, so the stricter wins) and adds what only a header can say
 * (frame-ancestors). Workers load from files of our own origin only (Vite emits them as files);
 * test/e2e/electron/shell-policy.spec.ts runs the built renderer under this exact policy.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers added to every app:// response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Links the user may open in the system browser: https only, a real host name, no credentials.
 * Anything else (file:, javascript:, custom schemes, http:) is refused.
 */
export function isSafeExternalUrl(url: unknown): boolean {
  if (typeof url !== 'string' || url.length === 0 || url.length > 2048) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:') return false;
  if (parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.hostname === '' || parsed.hostname === 'localhost') return false;
  return true;
}

/** Where a top-level navigation may go: only pages of our own origin. */
export function isAllowedNavigation(url: unknown): boolean {
  return isTrustedSenderUrl(url);
}

/**
 * Permissions the renderer may use. Everything else (camera, geolocation, notifications, HID,
 * serial, …) is denied. Copying text to the clipboard is the one thing the UI needs.
 */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export function isPermissionAllowed(permission: string, requestingUrl: string | undefined): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && isTrustedSenderUrl(requestingUrl);
}

/**
 * Command-line switches that open a debugger or DevTools port into the app. A packaged build
 * refuses to start with them (the Electron fuses in electron-builder.yml also disable the Node
 * inspector flags); development and tests need them (Playwright drives the app through them).
 */
const DEBUG_SWITCHES = [
  '--inspect',
  '--inspect-brk',
  '--inspect-port',
  '--inspect-publish-uid',
  '--debug',
  '--debug-brk',
  '--remote-debugging-port',
  '--remote-debugging-pipe',
  '--remote-debugging-address',
  '--remote-allow-origins',
];

export function findDebugFlags(argv: readonly string[]): string[] {
  return argv.filter((arg) => {
    const name = arg.split('=', 1)[0]!.toLowerCase();
    return DEBUG_SWITCHES.includes(name);
  });
}

/**
 * The user-data directory override for tests (a fresh profile per run), made absolute against
 * the working directory. Empty means no override.
 */
export function userDataOverride(env: Readonly<Record<string, string | undefined>>, cwd: string): string | undefined {
  const dir = env.TANDEM_USER_DATA;
  if (!dir || dir.includes('\0')) return undefined;
  return path.resolve(cwd, dir);
}

/** What every window of ours gets: Chromium's sandbox, isolated preload world, no Node anywhere, no webviews. */
export const LOCKED_WEB_PREFERENCES = Object.freeze({
  sandbox: true,
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
});

/**
 * The offscreen window that prints reports to PDF: sandboxed, no scripts, no preload, no Node,
 * its own in-memory session. The report is self-contained, so it needs none of them.
 */
export const PDF_PARTITION = 'tandem-pdf';
export const PDF_WEB_PREFERENCES = Object.freeze({
  ...LOCKED_WEB_PREFERENCES,
  javascript: false,
  images: true,
  spellcheck: false,
  devTools: false,
  partition: PDF_PARTITION,
});

/**
 * Reports are served from memory under their own scheme (no temp file, no data: URL size cap).
 * A page of this origin cannot reach file: URLs, and its CSP header allows inline styles and
 * data: images and fonts only: nothing leaves the machine, whatever the HTML references.
 */
export const PDF_SCHEME = 'tandem-pdf';
export const PDF_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  'font-src data:',
  "script-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const PDF_TOKEN = /^[A-Za-z0-9-]{8,64}$/;

export function pdfDocumentUrl(token: string): string {
  return `${PDF_SCHEME}://report/${token}.html`;
}

/** The report token a tandem-pdf: URL names, or undefined for anything else. */
export function pdfTokenOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== `${PDF_SCHEME}:` || parsed.host !== 'report') return undefined;
  const m = /^\/([^/]+)\.html$/.exec(parsed.pathname);
  return m && PDF_TOKEN.test(m[1]!) ? m[1] : undefined;
}

/**
 * Second line of defence (the CSP is the first): what the PDF session lets through at all. Only
 * report documents and inline data; network, file: and other schemes are cancelled.
 */
export function isPdfRequestAllowed(url: string): boolean {
  return url.startsWith('data:') || pdfTokenOf(url) !== undefined;
}
