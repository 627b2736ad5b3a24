// Types `window.tandem` (and `globalThis.tandem`) for the renderer. The preload defines it only
// inside Electron; in the browser build it is undefined, so callers must test for it first:
//   const info = await window.tandem?.['app.info']();
// Declared as a global `var` (not an augmentation of the DOM's Window) so this file stays free of
// DOM types and type-checks in both tsconfigs.
import type { TandemBridge } from './contract.ts';

declare global {
  var tandem: TandemBridge | undefined;
}

export {};
