// The one application window and the guards every web contents gets.
import { BrowserWindow, shell, type WebContents } from 'electron';
import path from 'node:path';
import { APP_ENTRY_URL, LOCKED_WEB_PREFERENCES, isAllowedNavigation, isSafeExternalUrl } from './security.ts';

/** Opens a link in the system browser when it passes validation; otherwise drops it. */
function openExternally(url: string): void {
  if (isSafeExternalUrl(url)) void shell.openExternal(url);
}

/** Applied to every web contents created in the app (windows, and anything a bug might create). */
export function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (isAllowedNavigation(url)) return;
    event.preventDefault();
    openExternally(url);
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  // No <webview>, no child windows: links that want a new window go to the system browser.
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
}

export interface WindowOptions {
  preloadPath: string;
  iconPath?: string;
  devTools: boolean;
}

export function createMainWindow(opts: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'Tandem',
    show: false,
    backgroundColor: '#1e1e1e',
    ...(opts.iconPath ? { icon: opts.iconPath } : {}),
    webPreferences: {
      ...LOCKED_WEB_PREFERENCES,
      preload: path.resolve(opts.preloadPath),
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: opts.devTools,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY_URL);
  return win;
}
