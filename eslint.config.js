// Lint: correctness basics plus the layering rules of the architecture (see README, "Architecture").
// A bad import fails `npm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Node's built-ins by bare name (exact match), plus every `node:` specifier via the patterns.
const nodeBuiltinNames = ['fs', 'fs/promises', 'path', 'os', 'child_process', 'zlib', 'stream', 'crypto', 'url', 'util', 'worker_threads', 'net', 'http', 'https', 'events', 'buffer', 'process'];
const nodeBuiltins = ['node:*'];

/** A no-restricted-imports rule: forbidden patterns (gitignore style) and Node's bare built-ins, one message. */
const forbid = (patterns, message, { allowNode = false } = {}) => [
  'error',
  {
    paths: allowNode ? [] : nodeBuiltinNames.map((name) => ({ name, message })),
    patterns: [{ group: patterns, message }],
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['scripts/**', 'bin/**', 'test/**', 'electron/**', '*.config.*'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
  },
  // Layering: shared/ is pure — it runs in a worker, in Electron main and in Node unchanged.
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid(
        [...nodeBuiltins, 'electron', 'cap', 'react', 'react-dom', 'dexie', '**/renderer/**', '**/electron/**', '**/bin/**', '**/test/**'],
        'Bad layering: shared/ is pure TypeScript and may import only shared/ (no Node, DOM, Electron, React or Dexie).',
      ),
    },
  },
  // One protocol never imports a sibling: protocols reach each other only through the registry.
  {
    files: ['shared/protocols/**/*.ts'],
    ignores: ['shared/protocols/index.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltinNames.map((name) => ({ name, message: 'Bad layering: shared/ is pure TypeScript.' })),
        patterns: [
          { group: ['node:*', 'electron', 'cap', 'react', 'dexie'], message: 'Bad layering: shared/ is pure TypeScript.' },
          {
            regex: String.raw`^\.\./(?!capture-file/types\.ts$|util/)|^\./(?!(registry|packet|fields|addr|util|dissect|context|summary)\.ts$)`,
            message: 'Bad layering: a protocol module may import only the registry and the shared helpers, never a sibling protocol.',
          },
        ],
      }],
    },
  },
  // Electron main/preload: shared, node, electron, cap — never the renderer.
  {
    files: ['electron/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid(['**/renderer/**', 'react', 'react-dom', 'dexie'], 'Bad layering: electron/ never imports the renderer.', { allowNode: true }),
    },
  },
  // Renderer: shared, react, dexie; reaches the main process only through the typed preload API.
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': forbid(
        [...nodeBuiltins, 'electron', 'cap', '**/electron/**', '**/bin/**'],
        'Bad layering: the renderer may import shared/, React and Dexie only; it talks to the main process through window.tandem.',
      ),
    },
  },
  // The renderer's UI thread parses nothing: readers, decoders, ingest and analysis run in its
  // workers (renderer/src/workers/, *.worker.ts). UI code may use their types only.
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    ignores: ['renderer/src/workers/**', 'renderer/**/*.worker.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          group: [
            '**/shared/protocols/**', '!**/shared/protocols/packet.ts', '!**/shared/protocols/fields.ts', '!**/shared/protocols/info.ts',
            '**/shared/capture-file/**', '!**/shared/capture-file/types.ts', '!**/shared/capture-file/links.ts',
            // packet-columns reads the stored column chunks (the packet list's rows): no parsing.
            '**/shared/ingest/**', '!**/shared/ingest/packet-columns.ts', '**/shared/analysis/**', '!**/shared/analysis/types.ts',
          ],
          allowTypeImports: true,
          message: 'Bad layering: packet parsing and analysis run in a worker, not on the UI thread; import their types only.',
        }],
      }],
    },
  },
);
