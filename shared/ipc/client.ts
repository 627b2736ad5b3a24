// Renderer-side access to the desktop API. Returns undefined in a plain browser, where the
// preload does not exist; callers fall back to web APIs (file input, download link).
import type { TandemApi } from './contract.ts';

export function desktopApi(): TandemApi | undefined {
  const api = (globalThis as { tandem?: TandemApi }).tandem;
  return api && typeof api === 'object' ? api : undefined;
}

export function isDesktop(): boolean {
  return desktopApi() !== undefined;
}
