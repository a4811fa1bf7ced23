import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from './browser'

export interface ServeProcess {
  url: string
  token: string
  origin: string
  home: string
  output: () => string
  stop(): Promise<void>
}

/** Where the build is: `out/`, or GAN_STUDIO_OUT_DIR (which serve itself also honours). */
export const OUT_DIR = process.env.GAN_STUDIO_OUT_DIR ?? join(ROOT, 'out')

/** True when `npm run build` has produced what `gan-studio serve` needs. */
export function serveIsBuilt(): boolean {
  return existsSync(join(OUT_DIR, 'main', 'cli.js')) && existsSync(join(OUT_DIR, 'renderer', 'index.html'))
}

/** `bin/gan-studio.js serve`, or the same CLI entry in GAN_STUDIO_OUT_DIR. */
function serveArgs(): string[] {
  if (!process.env.GAN_STUDIO_OUT_DIR) return [join(ROOT, 'bin', 'gan-studio.js'), 'serve', '--port', '0']
  const cli = JSON.stringify(pathToFileURL(join(OUT_DIR, 'main', 'cli.js')).href)
  const script = `const { main } = await import(${cli}); process.exitCode = await main(['serve', '--port', '0'])`
  return ['--input-type=module', '-e', script]
}

/**
 * `node bin/gan-studio.js serve --port 0` with a fresh studio home (or `opts.home`, one a test has
 * already filled, e.g. with runs trained by the CLI); resolves once it prints its URL.
 */
export async function startServe(env: Record<string, string> = {}, opts: { home?: string } = {}): Promise<ServeProcess> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'gan-studio-e2e-home-'))
  const child: ChildProcess = spawn(process.execPath, serveArgs(), {
    cwd: ROOT,
    env: { ...process.env, GAN_STUDIO_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gan-studio serve printed no URL in 60 s:\n${out}`)), 60_000)
    const check = (): void => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[^\s]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`gan-studio serve exited with ${code}:\n${out}`))
    })
  })
  const parsed = new URL(url)
  return {
    url,
    token: parsed.searchParams.get('token')!,
    origin: parsed.origin,
    home,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise<void>((r) => child.once('exit', () => r()))
      child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
    }
  }
}
