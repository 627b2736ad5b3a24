// Renderer-side access to the desktop API. Returns undefined in a plain browser, where the
// preload does not exist; callers fall back to web APIs (file input, download link).
import type { TandemBridge } from './contract.ts';

export function desktopApi(): TandemBridge | undefined {
  const api = (globalThis as { tandem?: TandemBridge }).tandem;
  return api && typeof api === 'object' ? api : undefined;
}

export function isDesktop(): boolean {
  return desktopApi() !== undefined;
}

/** True when the shell offers live capture (a desktop build with the capture operations). */
export function canCapture(): boolean {
  const api = desktopApi();
  return api !== undefined && typeof api['capture.start'] === 'function' && typeof api.onCaptureEvent === 'function';
}

/** True when the shell can also capture on a far end over SSH (capture.startPaired). */
export function canCaptureFarEnd(): boolean {
  const api = desktopApi();
  return canCapture() && typeof api?.['capture.startPaired'] === 'function';
}
