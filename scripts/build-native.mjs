#!/usr/bin/env node
// Builds the native CPU kernels (native/: N-API addon in C) with node-gyp, into
// native/build/Release/gan_studio_native.node. Run by the install step (postinstall.mjs), and by
// hand with `npm run build:native`. The training engine uses the wasm kernels when the addon is
// missing, so a failed build is a note, never an error: `buildNative()` returns the reason.
//
// node-gyp: npm's own bundled copy (npm hands its path to install scripts in
// npm_config_node_gyp), so the project needs no extra dependency and builds with the same
// node-gyp npm uses for any native package. Headers: those installed with Node when present
// (<prefix>/include/node), so no download is needed; otherwise node-gyp fetches them.
import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
export const nativeDir = join(root, 'native')
export const addonFile = join(nativeDir, 'build', 'Release', 'gan_studio_native.node')

/** npm's bundled node-gyp (bin script), or null. */
function nodeGypScript() {
  const candidates = [process.env.npm_config_node_gyp]
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  // npm next to this Node (Linux/macOS: <prefix>/lib/node_modules/npm; Windows: <prefix>/node_modules/npm).
  const prefix = dirname(dirname(process.execPath))
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  return candidates.find((c) => c && c.endsWith('.js') && existsSync(c)) ?? null
}

/** Node's own headers folder prefix (contains include/node/node_api.h and common.gypi), or null. */
function localNodeDir() {
  const prefix = dirname(dirname(process.execPath))
  const include = join(prefix, 'include', 'node')
  return existsSync(join(include, 'node_api.h')) && existsSync(join(include, 'common.gypi')) ? prefix : null
}

/** The line of node-gyp's output that says what went wrong (compiler error, missing tool, …). */
function failureLine(output) {
  const lines = output
    .split('\n')
    .map((l) => l.trim().replace(/^gyp ERR! (stack |find )?/, ''))
    .filter(Boolean)
  const pick =
    lines.find((l) => /: (fatal )?error: /.test(l)) ?? // the compiler's
    lines.find((l) => /^\w*Error: /.test(l)) ?? // node-gyp's (e.g. "Error: not found: make") or Python's
    lines.find((l) => /Python/.test(l)) ??
    lines.find((l) => !/^(gyp info|configure error|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l)) ??
    'unknown error'
  return pick.slice(0, 200)
}

/** Builds the addon. Returns { ok: true } or { ok: false, reason }. Never throws. */
export function buildNative({ quiet = true } = {}) {
  try {
    if (process.env.GAN_STUDIO_NATIVE === '0') return { ok: false, reason: 'GAN_STUDIO_NATIVE=0 is set' }
    const gyp = nodeGypScript()
    if (!gyp) return { ok: false, reason: "npm's node-gyp was not found (run `npm run build:native` from npm)" }
    const args = [gyp, 'rebuild']
    const nodedir = localNodeDir()
    if (nodedir) args.push(`--nodedir=${nodedir}`)
    rmSync(addonFile, { force: true })
    const r = spawnSync(process.execPath, args, {
      cwd: nativeDir,
      encoding: 'utf8',
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      timeout: 5 * 60_000
    })
    if (r.error) return { ok: false, reason: `node-gyp did not run (${r.error.message})` }
    if (r.status !== 0 || !existsSync(addonFile)) return { ok: false, reason: quiet ? failureLine(`${r.stderr ?? ''}\n${r.stdout ?? ''}`) : `node-gyp exited with ${r.status}` }
    return { ok: true }
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = buildNative({ quiet: false })
  if (result.ok) console.log(`build-native: built ${addonFile}`)
  else console.log(`native CPU kernels not built: ${result.reason}; training uses the wasm kernels`)
}
