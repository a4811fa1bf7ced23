import { existsSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { StudioError } from '@shared/errors'

/**
 * Finds a built file under `out/` (e.g. `main/trainer-process.js`, `renderer/index.html`) from the
 * module that asks: bundles put entries in `out/main/` and shared code in `out/main/chunks/`, and
 * tests run from `src/`, so it walks up looking for `out/<relative>`. `GAN_STUDIO_OUT_DIR` overrides.
 * In the packaged app a file unpacked from the archive is returned at its real path
 * (`app.asar.unpacked/…`): processes and worker threads start from real files.
 */
export function locateBuilt(relative: string, from: string = import.meta.url): string {
  const override = process.env.GAN_STUDIO_OUT_DIR
  if (override) {
    const candidate = resolve(override, relative)
    if (existsSync(candidate)) return candidate
  }
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : from)
  for (let i = 0; i < 8; i++) {
    const candidates = basename(dir) === 'out' ? [join(dir, relative), join(dir, 'out', relative)] : [join(dir, 'out', relative)]
    for (const candidate of candidates) for (const file of [unpackedPath(candidate), candidate]) if (existsSync(file)) return file
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  throw new StudioError('not-found', `Cannot find the built file out/${relative}. Run \`npm run build\` first.`)
}

/** The path a file unpacked from an Electron archive has on disk: `…/app.asar/x` → `…/app.asar.unpacked/x`. */
export function unpackedPath(file: string): string {
  return file.replace(/([\\/])app\.asar(?=[\\/])/, '$1app.asar.unpacked')
}
