/**
 * Smoke test of the desktop app through Playwright's Electron driver: the window opens, the preload
 * has put `window.studio` on the page, and the studio answers through IPC. Runs only where the
 * Electron binary exists (its download is blocked in some environments) and a display is available;
 * otherwise it says once, plainly, that it did not run and why.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { _electron as electron } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { ROOT, screenshot } from './support/browser'

function electronBinary(): { path: string | null; why: string | null } {
  const pkg = join(ROOT, 'node_modules', 'electron')
  if (!existsSync(pkg)) return { path: null, why: 'the electron package is not installed' }
  const pathFile = join(pkg, 'path.txt')
  if (!existsSync(pathFile))
    return { path: null, why: 'the Electron binary was never downloaded (node_modules/electron/path.txt is missing; its install script did not run or could not reach the download)' }
  const bin = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim())
  if (!existsSync(bin)) return { path: null, why: `the Electron binary is missing at ${bin}` }
  return { path: bin, why: null }
}

function whyNot(): string | null {
  const { why } = electronBinary()
  if (why) return why
  if (!existsSync(join(ROOT, 'out', 'main', 'index.js'))) return 'the app is not built (run `npm run build`)'
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return 'there is no display (run it under xvfb-run on a headless Linux machine)'
  return null
}

const reason = whyNot()
if (reason) console.log(`Electron smoke test did not run: ${reason}.`)

describe.skipIf(reason !== null)('desktop app (Electron) smoke test', () => {
  it('opens the studio window with the preload bridge', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gan-studio-electron-'))
    const app = await electron.launch({
      executablePath: electronBinary().path!,
      args: [join(ROOT, 'out', 'main', 'index.js')],
      env: { ...process.env, GAN_STUDIO_HOME: home } as Record<string, string>,
      timeout: 60_000
    })
    try {
      const page = await app.firstWindow()
      await page.getByRole('link', { name: 'Datasets' }).waitFor({ timeout: 30_000 })
      for (const name of ['Datasets', 'New run', 'Runs']) await expect(page.getByRole('link', { name }).isVisible()).resolves.toBe(true)
      const bridge = await page.evaluate(() => {
        const studio = (globalThis as unknown as { studio?: Record<string, unknown> }).studio
        return studio ? { on: typeof studio.on, list: typeof studio['runs.list'], fileUrl: typeof studio.fileUrl } : null
      })
      expect(bridge).toEqual({ on: 'function', list: 'function', fileUrl: 'function' })
      // The page has no Node: the bridge is all it gets.
      await expect(page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).resolves.toBe('undefined')
      await page.getByText('Desktop', { exact: true }).waitFor()
      await screenshot(page, 'electron-01-window')
    } finally {
      await app.close()
    }
  })
})
