// Implementations of the IPC operations. Arguments arrive already validated (ipc-dispatch.ts).
import { app, dialog, webContents, type BrowserWindow } from 'electron';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MAX_OPEN_BYTES, type FileFilter } from '../../shared/ipc/contract.ts';
import type { CaptureManager } from './capture-manager.ts';
import { UserFacingError, type Handlers } from './ipc-dispatch.ts';
import { printHtmlToPdf } from './pdf.ts';
import { deliverProbeEvent, ProbeManager } from './probe.ts';
import { runProbe } from '../probe/index.ts';
import { checkOptions } from '../probe/script.ts';

export interface HandlerContext {
  /** The window that asked; dialogs are modal to it. Undefined if it closed meanwhile. */
  window: BrowserWindow | undefined;
  /** webContents id of the sender: captures belong to it and their events go only there. */
  senderId: number;
}

function dialogFilters(filters: FileFilter[] | undefined): Electron.FileFilter[] | undefined {
  return filters?.map((f) => ({ name: f.name, extensions: [...f.extensions] }));
}

/** A Uint8Array that owns exactly its bytes (IPC serialises a view's whole backing buffer). */
function exactBytes(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf); // copies into a buffer of its own
}

export function createHandlers(captures: CaptureManager, probes: ProbeManager = appProbeManager()): Handlers<HandlerContext> {
  return { ...fileHandlers, ...captureHandlers(captures), ...probeHandlers(probes), 'report.pdf': async (_ctx, req) => exactBytes(await printHtmlToPdf(req.html)) };
}

/**
 * The app's guided tests: folders under the system temp directory, events to the starting window
 * only, cancelled when that window closes, crashes or loads another page, all removed on quit.
 */
function appProbeManager(): ProbeManager {
  const probes = new ProbeManager({
    run: runProbe,
    check: checkOptions,
    send: (ownerId, ev) => void deliverProbeEvent(webContents.fromId(ownerId), ev),
    watchOwner: (ownerId, gone) => {
      const contents = webContents.fromId(ownerId);
      if (!contents || contents.isDestroyed()) {
        gone();
        return () => undefined;
      }
      const onNavigate = (details: Electron.Event<Electron.WebContentsDidStartNavigationEventParams>) => {
        if (details.isMainFrame && !details.isSameDocument) gone();
      };
      contents.once('destroyed', gone);
      contents.on('render-process-gone', gone);
      contents.on('did-start-navigation', onNavigate);
      return () => {
        contents.removeListener('destroyed', gone);
        contents.removeListener('render-process-gone', gone);
        contents.removeListener('did-start-navigation', onNavigate);
      };
    },
  });
  app.once('will-quit', () => void probes.disposeAll());
  return probes;
}

function probeHandlers(probes: ProbeManager): Pick<Handlers<HandlerContext>, 'probe.start' | 'probe.cancel' | 'probe.file'> {
  return {
    'probe.start': (ctx, req) => probes.start(ctx.senderId, req),
    'probe.cancel': (ctx, id) => probes.cancel(ctx.senderId, id),
    'probe.file': (ctx, id, name) => probes.readFile(ctx.senderId, id, name),
  };
}

function captureHandlers(captures: CaptureManager): Pick<Handlers<HandlerContext>, 'capture.devices' | 'capture.start' | 'capture.stop' | 'capture.startPaired'> {
  return {
    'capture.devices': () => captures.devices(),
    'capture.start': (ctx, req) => captures.start(ctx.senderId, req),
    'capture.startPaired': (ctx, req) => captures.startPaired(ctx.senderId, req),
    'capture.stop': (ctx, id) => captures.stop(ctx.senderId, id),
  };
}

const fileHandlers: Pick<Handlers<HandlerContext>, 'app.info' | 'file.save' | 'file.open'> = {
  'app.info': () => ({
    name: app.getName(),
    version: app.getVersion(),
    platform: process.platform,
    arch: process.arch,
    versions: {
      electron: process.versions.electron ?? '',
      chrome: process.versions.chrome ?? '',
      node: process.versions.node,
    },
    packaged: app.isPackaged,
  }),

  'file.save': async (ctx, req) => {
    const options: Electron.SaveDialogOptions = {
      defaultPath: path.join(app.getPath('downloads'), req.suggestedName),
      filters: dialogFilters(req.filters),
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    };
    const result = ctx.window ? await dialog.showSaveDialog(ctx.window, options) : await dialog.showSaveDialog(options);
    if (result.canceled || !result.filePath) return { saved: false };
    await fs.writeFile(result.filePath, req.data);
    return { saved: true, path: result.filePath };
  },

  'file.open': async (ctx, req) => {
    const options: Electron.OpenDialogOptions = {
      filters: dialogFilters(req?.filters),
      properties: req?.multiple ? ['openFile', 'multiSelections'] : ['openFile'],
    };
    const result = ctx.window ? await dialog.showOpenDialog(ctx.window, options) : await dialog.showOpenDialog(options);
    if (result.canceled) return [];
    // Check sizes before reading anything: the bytes are copied through IPC.
    let total = 0;
    for (const file of result.filePaths) {
      const stat = await fs.stat(file);
      if (!stat.isFile()) throw new UserFacingError(`${path.basename(file)} is not a regular file.`);
      total += stat.size;
    }
    if (total > MAX_OPEN_BYTES) {
      throw new UserFacingError(
        `The chosen files hold ${Math.ceil(total / 2 ** 20)} MiB, more than the ${MAX_OPEN_BYTES / 2 ** 20} MiB that can be opened this way; drop them onto the window instead.`,
      );
    }
    const files = [];
    for (const file of result.filePaths) {
      files.push({ name: path.basename(file), data: exactBytes(await fs.readFile(file)) });
    }
    return files;
  },
};
