// Electron main process entry, bundled to out/electron/main.cjs. Thin on purpose: lifecycle, one
// window, the app:// protocol, and IPC handlers that validate sender and arguments first.
import { app, BrowserWindow, ipcMain, protocol, session, webContents } from 'electron';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { channelOf, OPERATIONS, APP_SCHEME, type Operation } from '../../shared/ipc/contract.ts';
import { serveAppRequest } from './app-protocol.ts';
import { CaptureManager, deliverCaptureEvent, findHelperNode } from './capture-manager.ts';
import { createHandlers, type HandlerContext } from './handlers.ts';
import { dispatch } from './ipc-dispatch.ts';
import { findDebugFlags, isPermissionAllowed, PDF_SCHEME, userDataOverride } from './security.ts';
import { createMainWindow, hardenWebContents } from './window.ts';

// Layout of the build: out/electron/{main,preload}.cjs next to out/renderer/.
const OUT_DIR = path.resolve(__dirname, '..');
const RENDERER_ROOT = path.join(OUT_DIR, 'renderer');
const PRELOAD_PATH = path.join(__dirname, 'preload.cjs');
const DEV_ICON = path.resolve(OUT_DIR, '..', 'build', 'icon.png');
const CAPTURE_HELPER = path.join(__dirname, 'capture-helper.mjs');

// Created on ready (it needs the profile folder). Captures run in helper processes, not here.
let captures: CaptureManager | undefined;

function fatal(message: string): never {
  process.stderr.write(`tandem: ${message}\n`);
  app.exit(1);
  process.exit(1);
}

// A packaged build never opens a debugger port (development and Playwright need one).
if (app.isPackaged) {
  const flags = findDebugFlags(process.argv);
  if (flags.length > 0) fatal(`refusing to start with debugging switches: ${flags.join(' ')}`);
}

// The same profile folder however the app is launched (`electron .`, a bare main.cjs, packaged).
app.setName('Tandem');
app.setPath('userData', userDataOverride(process.env, process.cwd()) ?? path.join(app.getPath('appData'), 'Tandem'));

// Every renderer is sandboxed, whatever a window's options say.
app.enableSandbox();

// Must happen before `ready`. standard: real origin (relative URLs, IndexedDB); secure: a secure
// context; supportFetchAPI + corsEnabled: module scripts and module workers load from it.
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
  },
  // Report documents for report.pdf, served from memory in their own session (pdf.ts).
  { scheme: PDF_SCHEME, privileges: { standard: true, secure: true } },
]);

if (!app.requestSingleInstanceLock()) {
  // Another Tandem owns this profile; it focuses its window (below) and this one leaves.
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents);
    // A closed or crashed window stops its captures; the spool files stay on disk.
    const id = contents.id;
    contents.once('destroyed', () => captures?.stopOwner(id));
    contents.on('render-process-gone', () => captures?.stopOwner(id));
    // A reload or navigation starts a page that knows nothing of the running captures.
    contents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) captures?.stopOwner(id);
    });
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => void captures?.stopAll());
  app.whenReady().then(onReady, (err: unknown) => fatal(`could not start: ${String(err)}`));
}

function registerIpc(): void {
  const helperNode = findHelperNode(process.env);
  captures = new CaptureManager({
    spoolDir: path.join(app.getPath('userData'), 'captures'),
    launch: { helperPath: CAPTURE_HELPER, ...(helperNode !== undefined && { node: helperNode }) },
    send: (ownerId, ev) => void deliverCaptureEvent(webContents.fromId(ownerId), ev),
  });
  const handlers = createHandlers(captures);
  for (const op of OPERATIONS) {
    ipcMain.handle(channelOf(op), (event, ...args: unknown[]) => {
      const frame = event.senderFrame;
      const sender = { url: frame?.url, topLevel: frame != null && frame.parent === null };
      const ctx: HandlerContext = { window: BrowserWindow.fromWebContents(event.sender) ?? undefined, senderId: event.sender.id };
      return dispatch(op as Operation, sender, args, handlers, ctx);
    });
  }
}

function openWindow(): void {
  createMainWindow({
    preloadPath: PRELOAD_PATH,
    devTools: !app.isPackaged,
    ...(!app.isPackaged && existsSync(DEV_ICON) ? { iconPath: DEV_ICON } : {}),
  });
}

function onReady(): void {
  if (!existsSync(path.join(RENDERER_ROOT, 'index.html'))) {
    fatal(`the renderer is not built (${RENDERER_ROOT}/index.html is missing); run "npm run build" first`);
  }
  const ses = session.defaultSession;
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(RENDERER_ROOT, request.url, request.method));
  ses.setPermissionRequestHandler((contents, permission, callback) =>
    callback(isPermissionAllowed(permission, contents.getURL())),
  );
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    isPermissionAllowed(permission, requestingOrigin),
  );
  ses.setDevicePermissionHandler(() => false);
  registerIpc();
  openWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) openWindow();
  });
}
