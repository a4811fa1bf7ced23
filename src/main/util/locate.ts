import { existsSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { StudioError } from '@shared/errors'

/**
 * Finds a built file under `out/` (e.g. `main/trainer-process.js`, `renderer/index.html`) from the
 * module that asks: bundles put entries in `out/main/` and shared code in `out/main/chunks/`, and
 * tests run from `src/`, so it walks up looking for `out/<relative>`. `GAN_STUDIO_OUT_DIR` overrides.
 */
export function locateBuilt(relative: string, from: string = import.meta.url): string {
  const override = process.env.GAN_STUDIO_OUT_DIR
  if (override) {
    const candidate = resolve(override, relative)
    if (existsSync(candidate)) return candidate
  }
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : from)
  for (let i = 0; i < 8; i++) {
    if (basename(dir) === 'out' && existsSync(join(dir, relative))) return join(dir, relative)
    if (existsSync(join(dir, 'out', relative))) return join(dir, 'out', relative)
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  throw new StudioError('not-found', `Cannot find the built file out/${relative}. Run \`npm run build\` first.`)
}
