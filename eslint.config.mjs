// Flat config: typescript-eslint (strict, not type-aware: fast on two cores) + eslint-plugin-vue.
// Zero warnings: every rule here is an error or off. Raw `ipcMain` / `ipcRenderer` only in the
// bridge files (src/main/bridge, src/preload).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import pluginVue from 'eslint-plugin-vue'
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

export default tseslint.config(
  {
    // src/main/jpeg/wasm is AssemblyScript (its own types and decorators); its compiler checks it (npm run build:wasm).
    ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'scripts/bench/*.py', '**/*.d.ts.map', '.tmp/**', '.tmp-*.ts', 'src/main/jpeg/wasm/**']
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
  {
    // The renderer never reaches Node or Electron: it talks to the studio through the bridge only.
    files: ['src/renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer uses window.studio (through src/renderer/src/bridge), never Electron.' }],
          patterns: [{ group: ['node:*'], message: 'The renderer has no Node APIs.' }]
        }
      ]
    }
  },
  {
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'The sandboxed preload has no Node APIs.' }] }]
    }
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked
  }
)
