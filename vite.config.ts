// Builds the React renderer. base './' keeps asset URLs relative so the same build loads from
// the Electron app:// protocol and from a plain http server (the browser e2e test).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./out/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  worker: { format: 'es' },
  // The renderer imports pure code from shared/, which sits outside the Vite root.
  server: { fs: { allow: [repoRoot] } },
  preview: { port: 4173, strictPort: true },
});
