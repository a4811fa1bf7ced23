import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { '@shared': resolve(__dirname, 'src/shared') } },
  test: {
    exclude: ['tests/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    typecheck: { enabled: true, include: ['tests/**/*.test-d.ts'], tsconfig: './tsconfig.node.json' },
    projects: [
      {
        extends: true,
        test: { name: 'node', environment: 'node', include: ['tests/main/**/*.test.ts', 'tests/shared/**/*.test.ts', 'tests/tooling/**/*.test.ts', 'tests/tools/**/*.test.ts'] }
      },
      {
        extends: true,
        test: { name: 'renderer', environment: 'happy-dom', include: ['tests/renderer/**/*.test.ts'] }
      }
    ]
  }
})
