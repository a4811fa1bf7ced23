import { spawnSync } from 'node:child_process'
import { existsSync, promises as fsp, readdirSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listPackage } from '@electron/asar'
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config'
import { DebugLogger } from 'builder-util'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { locateBuilt } from '../../src/main/util/locate'

/**
 * Packaging (electron-builder.cjs, `npm run dist`). Installers need Electron's own binaries, which
 * cannot be downloaded here; everything else is checked: the configuration against
 * electron-builder's schema, that every package the built code imports ships and is unpacked, and
 * a real `electron-builder --dir` build on a stand-in Electron distribution, whose archive and
 * unpacked files are inspected and whose trainer is run.
 */

const root = join(__dirname, '..', '..')
const requireHere = createRequire(import.meta.url)
const { runtimeClosure, runtimePackages } = requireHere('../../scripts/runtime-deps.cjs') as {
  runtimePackages: () => string[]
  runtimeClosure: (names: string[]) => string[]
}
const configFile = join(root, 'electron-builder.cjs')

let work: string
beforeAll(async () => {
  work = await fsp.mkdtemp(join(tmpdir(), 'gs-packaging-'))
  // The checks read the built bundles (npm test builds before the unit tests).
  if (!existsSync(join(root, 'out', 'main', 'trainer-process.js'))) {
    const built = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, encoding: 'utf8' })
    if (built.status !== 0) throw new Error(`electron-vite build failed: ${built.stderr}`)
  }
}, 300_000)
afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true })
})

/** Package names that the built files import (static, dynamic and createRequire), less Node's own and Electron. */
async function importedPackages(dir: string): Promise<Set<string>> {
  const found = new Set<string>()
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js') || f.endsWith('.cjs'))
  // A package specifier (npm names: no spaces or punctuation), so that UI text such as
  // `"Started from "` in a compiled template is not read as an import.
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\w*\s*\(\s*|\bimport\s+)["'](@?[a-z0-9][\w.-]*(?:\/[\w.@-]+)*|node:[\w/]+)["']/g
  for (const file of files) {
    // Block comments carry usage examples ("import { x } from 'vue-router'"): not imports.
    const text = (await fsp.readFile(join(dir, file), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '')
    for (const m of text.matchAll(specifier)) {
      const spec = m[1]!
      if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!) || spec.includes('${')) continue
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!
      if (name !== 'electron') found.add(name)
    }
  }
  return found
}

describe('electron-builder configuration', () => {
  it("passes electron-builder's own validation, which rejects a misspelt option", async () => {
    const config = await getConfig(root, configFile, null)
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined()
    await expect(validateConfiguration({ ...config, asarUnpak: ['x'] } as typeof config, new DebugLogger(false))).rejects.toThrow(/asarUnpak/)
  })

  it('builds AppImage and deb, dmg and NSIS, with the icon from resources/', async () => {
    const config = await getConfig(root, configFile, null)
    expect(config.linux?.target).toEqual(['AppImage', 'deb'])
    expect(config.mac?.target).toEqual(['dmg'])
    expect(config.win?.target).toEqual(['nsis'])
    expect(config.icon).toBe('resources/icon.png')
    // macOS needs at least 512×512 for its icon set; Windows 256×256.
    const icon = await sharp(join(root, config.icon!)).metadata()
    expect(icon.width).toBeGreaterThanOrEqual(512)
    expect(icon.height).toBe(icon.width)
    expect(config.asarUnpack).toContain('out/main/**')
  })

  it('ships and unpacks every package the built main, trainer and worker bundles import', async () => {
    const imported = await importedPackages(join(root, 'out', 'main'))
    expect(imported).toContain('@tensorflow/tfjs')
    expect(imported).toContain('sharp')
    const closure = new Set(runtimeClosure(runtimePackages()))
    // A package used at run time but listed only in devDependencies would be missing from the app.
    for (const name of imported) expect(closure.has(name), `${name} is imported by out/main but is not a run-time dependency`).toBe(true)
    const unpacked = (await getConfig(root, configFile, null)).asarUnpack as string[]
    for (const name of closure) expect(unpacked, name).toContain(`**/node_modules/${name}/**`)
  })

  it('imports nothing but the contract into the preload and nothing from node_modules into the renderer', async () => {
    expect([...(await importedPackages(join(root, 'out', 'preload')))]).toEqual([])
    expect([...(await importedPackages(join(root, 'out', 'renderer')))]).toEqual([])
  })
})

describe('a packaged directory build (electron-builder --dir, stand-in Electron)', () => {
  let resources: string
  let unpacked: string
  let archive: string[]

  beforeAll(async () => {
    // electron-builder copies an Electron distribution and renames its executable; a stand-in
    // with an `electron` file is enough for everything but starting the app.
    const electronDist = join(work, 'electron-dist')
    await fsp.mkdir(electronDist, { recursive: true })
    await fsp.writeFile(join(electronDist, 'electron'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
    const out = join(work, 'dist')
    const build = spawnSync(
      process.execPath,
      [join(root, 'node_modules/electron-builder/cli.js'), '--config', configFile, '--linux', 'dir', `-c.electronDist=${electronDist}`, `-c.directories.output=${out}`],
      { cwd: root, encoding: 'utf8', env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' } }
    )
    if (build.status !== 0) throw new Error(`electron-builder failed:\n${build.stdout}\n${build.stderr}`)
    resources = join(out, 'linux-unpacked', 'resources')
    unpacked = join(resources, 'app.asar.unpacked')
    archive = listPackage(join(resources, 'app.asar'), { isPack: false }).map((p) => p.split('\\').join('/'))
  }, 600_000)

  it('archives the renderer, the preload, the icon and package.json', () => {
    for (const file of ['/package.json', '/out/main/index.js', '/out/preload/index.cjs', '/out/renderer/index.html', '/resources/icon.png']) expect(archive).toContain(file)
    expect(archive.filter((p) => p.endsWith('.map'))).toEqual([])
    // Development packages stay out.
    expect(archive.some((p) => p.startsWith('/node_modules/vitest/') || p.startsWith('/node_modules/electron-vite/'))).toBe(false)
  })

  it('unpacks the trainer, its workers, the WebAssembly binaries and the native addons', () => {
    for (const file of ['out/main/index.js', 'out/main/trainer-process.js', 'out/main/train-worker.js', 'out/main/decode-worker.js']) expect(existsSync(join(unpacked, file)), file).toBe(true)
    const wasm = join(unpacked, 'node_modules/@tensorflow/tfjs-backend-wasm')
    expect(readdirSync(join(wasm, 'wasm-out')).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(3)
    expect(readdirSync(join(wasm, 'dist')).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(3)
    const native = readdirSync(join(unpacked, 'node_modules'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.node'))
    expect(native.some((f) => /sharp-linux-x64.*\.node$/.test(f))).toBe(true)
    expect(native.some((f) => /webgpu[\\/]dist[\\/]linux-x64[\\/]dawn\.node$/.test(f))).toBe(true)
    // Our own CPU kernels (built by the install step), outside the archive too.
    expect(existsSync(join(unpacked, 'native/build/Release/gan_studio_native.node'))).toBe(true)
  })

  it("finds the trainer and worker files at their unpacked paths from the packaged main's location", () => {
    const main = join(resources, 'app.asar', 'out', 'main', 'index.js')
    const chunk = join(resources, 'app.asar', 'out', 'main', 'chunks', 'runner.js')
    expect(locateBuilt('main/trainer-process.js', main)).toBe(join(unpacked, 'out/main/trainer-process.js'))
    expect(locateBuilt('main/train-worker.js', chunk)).toBe(join(unpacked, 'out/main/train-worker.js'))
    expect(locateBuilt('main/decode-worker.js', chunk)).toBe(join(unpacked, 'out/main/decode-worker.js'))
  })

  it('trains from the unpacked files alone: wasm binaries, worker threads and the importer resolve there', async () => {
    const home = join(work, 'home')
    const runner = join(work, 'run-packaged.mjs')
    await fsp.writeFile(runner, 'const [cli, ...argv] = process.argv.slice(2)\nconst m = await import(cli)\nprocess.exit(await m.main(argv))\n')
    const run = spawnSync(process.execPath, [runner, join(unpacked, 'out/main/cli.js'), 'demo', '--steps', '2', '--backend', 'wasm'], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, GAN_STUDIO_HOME: home, GAN_STUDIO_OUT_DIR: '', UV_THREADPOOL_SIZE: '4' }
    })
    expect(run.status, run.stderr + run.stdout).toBe(0)
    expect(run.stdout).toMatch(/Training on wasm/)
    expect(run.stdout).toMatch(/\+ native kernels \((AVX2\/FMA|portable)\)/) // found at its unpacked path
    expect(run.stdout).not.toMatch(/worker threads did not start/)
    const runs = readdirSync(join(home, 'runs'))
    expect(runs).toHaveLength(1)
    expect(readdirSync(join(home, 'runs', runs[0]!, 'checkpoints'))).toContain('step-000002')
  }, 300_000)
})
