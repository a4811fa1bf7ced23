// Flat config: typescript-eslint (strict, not type-aware: fast on two cores) + eslint-plugin-vue.
// Zero warnings: every rule here is an error or off. Raw `ipcMain` / `ipcRenderer` only in the
// bridge files (src/main/bridge, src/preload). Folder boundaries: see `folderBoundaries` below.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import pluginVue from 'eslint-plugin-vue'
import boundaries from 'eslint-plugin-boundaries'
import globals from 'globals'

const rawIpc = {
  paths: [
    {
      name: 'electron',
      importNames: ['ipcMain', 'ipcRenderer'],
      message: 'Raw IPC lives only in src/main/bridge (main) and src/preload: add a request to the contract instead.'
    },
    {
      name: 'electron/main',
      importNames: ['ipcMain'],
      message: 'Raw IPC lives only in src/main/bridge: add a request to the contract instead.'
    },
    {
      name: 'electron/renderer',
      importNames: ['ipcRenderer'],
      message: 'Raw IPC lives only in src/preload: add a request to the contract instead.'
    }
  ]
}

// TensorFlow.js loads only in trainer children (and the CLI's and the benchmark's own processes):
// the Electron main process and `serve` send tensor work to a child as a job. These are the only
// folders and files that may import it; tests/main/tensor-imports.test.ts checks the whole import
// graph from both entries, lazy imports included.
const tensorHomes = [
  'src/main/trainer/**',
  'src/main/generate/generator.ts',
  'src/main/generate/export-model.ts',
  'src/main/generate/layers-model.ts'
]
const noTensorflow = 'TensorFlow.js runs only in trainer children: send the work to one as a job (services/tensor-jobs.ts), or put tensor code under src/main/trainer.'

/**
 * Where code runs decides what it may import. eslint-plugin-boundaries resolves every import to a
 * file (relative paths and the `@shared` alias alike, through the TypeScript resolver) and checks
 * the folder it lands in, so `../../services/x` and `@shared/x` are judged by where they point, not
 * by how they are spelled. Node built-ins are its `core` origin, npm packages `external`.
 */
const folderBoundaries = {
  files: ['src/**/*.ts', 'src/**/*.vue'],
  plugins: { boundaries },
  settings: {
    'import/resolver': { typescript: { project: ['tsconfig.node.json', 'tsconfig.web.json'], noWarnOnMultipleProjects: true } },
    // First match wins: the trainer and main's utilities before the rest of main.
    'boundaries/elements': [
      { type: 'shared', pattern: 'src/shared' },
      { type: 'trainer', pattern: 'src/main/trainer' },
      { type: 'generate', pattern: 'src/main/generate' },
      { type: 'jpeg', pattern: 'src/main/jpeg' },
      { type: 'main-util', pattern: 'src/main/util' },
      { type: 'main', pattern: 'src/main' },
      { type: 'preload', pattern: 'src/preload' },
      { type: 'renderer', pattern: 'src/renderer' }
    ]
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'disallow',
        checkAllOrigins: true,
        message: 'Code in the {{from.element.type}} folder may not import "{{dependency.source}}" (folder boundaries in eslint.config.mjs).',
        policies: [
          // Pure TypeScript: the contract and schemas, with zod and nothing else.
          { from: { element: { type: 'shared' } }, allow: { to: [{ element: { type: 'shared' } }, { module: { origin: 'external', source: 'zod' } }] } },
          // The engine: Node and npm packages, but never Electron or main's services. Its child runs
          // generation's tensor jobs, which live with the rest of generation.
          {
            from: { element: { type: ['trainer', 'generate'] } },
            allow: {
              to: [{ element: { type: ['trainer', 'generate', 'jpeg', 'main-util', 'shared'] } }, { module: { origin: 'core' } }, { module: { origin: 'external', source: '!electron' } }]
            }
          },
          // The JPEG library: Node, its own files, the shared types and the importer's header sniffing.
          { from: { element: { type: 'jpeg' } }, allow: { to: [{ element: { type: ['jpeg', 'shared', 'trainer', 'main-util'] } }, { module: { origin: 'core' } }] } },
          { from: { element: { type: 'main-util' } }, allow: { to: [{ element: { type: ['main-util', 'shared'] } }, { module: { origin: 'core' } }, { module: { origin: 'external', source: '!electron' } }] } },
          // Electron main, handlers, services, serve, the CLI: everything but the two browser sides.
          {
            from: { element: { type: 'main' } },
            allow: { to: [{ element: { type: ['main', 'trainer', 'generate', 'jpeg', 'main-util', 'shared'] } }, { module: { origin: 'core' } }, { module: { origin: 'external' } }] }
          },
          // The sandboxed preload: Electron's renderer half and the contract.
          { from: { element: { type: 'preload' } }, allow: { to: [{ element: { type: ['preload', 'shared'] } }, { module: { origin: 'external', source: 'electron' } }] } },
          // The studio: its own files, the contract, and its UI libraries; never Node or Electron.
          {
            from: { element: { type: 'renderer' } },
            allow: {
              to: [
                { element: { type: ['renderer', 'shared'] } },
                { module: { origin: 'external', source: ['vue', 'vue-router', 'pinia', 'chart.js', 'zod'] } }
              ]
            }
          }
        ]
      }
    ]
  }
}

/** Globals that Node or the browser add to the language's own (window, document, process, Buffer…). */
const hostGlobals = [...new Set([...Object.keys(globals.node), ...Object.keys(globals.browser)])].filter((name) => !(name in globals.es2021))

export default tseslint.config(
  {
    // src/main/jpeg/wasm is AssemblyScript (its own types and decorators); its compiler checks it (npm run build:wasm).
    ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'tools/bench/*.py', '**/*.d.ts.map', '.tmp/**', '.tmp-*.ts', 'src/main/jpeg/wasm/**']
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  ...pluginVue.configs['flat/recommended'],
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node }
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
      '@typescript-eslint/no-invalid-void-type': 'off',
      'no-restricted-imports': ['error', rawIpc],
      // Module augmentation (`interface RouteMeta extends NavMeta {}`) is the one empty interface we write.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // Flags the defensive `let x = null; try { x = … } catch { x = null }`; not worth the noise.
      'no-useless-assignment': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off'
    }
  },
  {
    files: ['src/main/bridge/**', 'src/preload/**'],
    rules: { 'no-restricted-imports': 'off' }
  },
  {
    files: ['src/main/**'],
    ignores: tensorHomes,
    rules: {
      // Type-only imports are erased and load nothing.
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['@tensorflow/*'], message: noTensorflow, allowTypeImports: true }] }],
      'no-restricted-syntax': ['error', { selector: 'ImportExpression[source.value=/^@tensorflow\\//]', message: noTensorflow }]
    }
  },
  {
    files: ['**/*.vue'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] },
      globals: { ...globals.browser }
    },
    rules: {
      // TypeScript checks names (vue-tsc); DOM types such as FrameRequestCallback are not globals.
      'no-undef': 'off',
      // Formatting is not the linter's job here.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off'
    }
  },
  {
    files: ['src/renderer/**/*.ts', 'tests/renderer/**/*.ts', 'tests/e2e/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } }
  },
  folderBoundaries,
  {
    // Nothing of Node's or the browser's in the shared contract: it runs on both sides.
    files: ['src/shared/**'],
    rules: { 'no-restricted-globals': ['error', ...hostGlobals.map((name) => ({ name, message: 'src/shared is pure TypeScript: no Node or DOM globals.' }))] }
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked
  },
  {
    // CommonJS files (electron-builder's config and its helper) load each other with require.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  }
)
