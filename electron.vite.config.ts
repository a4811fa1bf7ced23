import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

const alias = { '@shared': resolve(__dirname, 'src/shared') }

export default defineConfig({
  main: {
    resolve: { alias },
    build: {
      rollupOptions: {
        input: {
          // Electron main process
          index: resolve(__dirname, 'src/main/index.ts'),
          // Training runs here: an Electron utility process, or a plain Node child for `serve`
          'trainer-process': resolve(__dirname, 'src/main/trainer/process.ts'),
          // Data-parallel training: one per worker thread, each on a shard of every batch
          'train-worker': resolve(__dirname, 'src/main/trainer/parallel/worker.ts'),
          // The importer's JPEG fast path, one per worker thread
          'decode-worker': resolve(__dirname, 'src/main/jpeg/decode-worker.ts'),
          // Headless entry points (plain Node)
          cli: resolve(__dirname, 'src/main/cli/index.ts')
        }
      }
    }
  },
  preload: {
    resolve: { alias },
    build: {
      // A sandboxed preload can require only `electron`: bundle everything else (zod, via the contract).
      externalizeDeps: false,
      rollupOptions: {
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    resolve: { alias },
    plugins: [vue()]
  }
})
