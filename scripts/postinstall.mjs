// After `npm install` / `npm ci`: fetch Electron's binary when it can be fetched, build the native
// CPU kernels, and say plainly what works when one of them (or the optional CUDA backend) cannot
// be had. Never fails the install.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { buildNative } from './build-native.mjs'

const require = createRequire(import.meta.url)
const notes = []

function electronBinaryPresent(dir) {
  const pathTxt = join(dir, 'path.txt')
  if (!existsSync(pathTxt)) return false
  return existsSync(join(dir, 'dist', readFileSync(pathTxt, 'utf8').trim()))
}

let electronDir = null
try {
  electronDir = dirname(require.resolve('electron/package.json'))
} catch {
  // production install without devDependencies
}

if (electronDir && !electronBinaryPresent(electronDir)) {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    notes.push('Electron: binary download skipped (ELECTRON_SKIP_BINARY_DOWNLOAD is set).')
  } else {
    // Electron's own install script is denied in package.json "allowScripts" so that a failed
    // download cannot fail the whole install; we run it here and tolerate failure.
    const result = spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10 * 60_000, encoding: 'utf8' })
    if (result.status !== 0 || !electronBinaryPresent(electronDir)) {
      const why = `${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.split('\n').find((l) => /Error|error/.test(l))?.trim()
      notes.push(`Electron: its binary could not be downloaded${why ? ` (${why.slice(0, 160)})` : ''}.`)
    }
  }
  if (notes.length) {
    notes.push('  The desktop window cannot open on this machine until it is: run `node node_modules/electron/install.js` when online.')
    notes.push('  Everything else works: the CLI (`npx gan-studio`), training, and the studio in a browser (`npx gan-studio serve`).')
  }
}

try {
  require.resolve('@tensorflow/tfjs-node-gpu/package.json')
} catch {
  notes.push('TensorFlow (CUDA) backend: @tensorflow/tfjs-node-gpu is not installed (its libtensorflow download failed or was skipped).')
  notes.push('  Training uses the webgpu or wasm backend instead; `gan-studio train --backend auto` picks the fastest that works.')
}

// The native CPU kernels (native/): optional, the engine falls back to the wasm kernels.
const native = buildNative()
if (!native.ok) notes.push(`native CPU kernels not built: ${native.reason}; training uses the wasm kernels`)

if (notes.length) {
  process.stdout.write(`\nGAN Studio install notes:\n${notes.map((n) => `  ${n}`).join('\n')}\n\n`)
}
