import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

/**
 * End-to-end tests: Chromium (playwright-core) against the built studio. Run with
 * `node scripts/e2e.mjs`, never by the default `vitest run` (which excludes tests/e2e).
 */
export default defineConfig({
  resolve: { alias: { '@shared': resolve(import.meta.dirname, '../../src/shared') } },
  test: {
    name: 'e2e',
    root: resolve(import.meta.dirname, '../..'),
    include: ['tests/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 240_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false }
  }
})
