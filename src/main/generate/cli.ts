import { promises as fsp } from 'node:fs'
import { join, resolve } from 'node:path'
import cliProgress from 'cli-progress'
import { BACKEND_REQUESTS, type BackendRequest } from '@shared/config'
import { StudioError, toErrorShape } from '@shared/errors'
import { UsageError, type CliIo } from '../cli/io'
import { cacheDir, runsDir } from '../util/home'
import type { BackendChoice } from './generator'

/**
 * What the generate / walk / export-model / compare commands share: one clear line and exit code 2
 * for bad input (so each command behaves the same whether run by the dispatcher or directly),
 * run folders by path or by id, number flags with ranges, and a progress display.
 */

export type CommandIo = Pick<CliIo, 'out' | 'err'> & Partial<Pick<CliIo, 'tty'>>

const BAD_INPUT_CODES = new Set(['bad-input', 'not-found', 'invalid-params', 'no-images'])

/** Runs a command body; bad input → one line on stderr and 2, other failures → one line and 1. */
export async function runCommand(name: string, io: CommandIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body()
  } catch (err) {
    const parseError = typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')
    if (err instanceof UsageError || parseError) {
      io.err(`gan-studio ${name}: ${(err as Error).message.split('\n')[0]}`)
      return 2
    }
    const shape = toErrorShape(err)
    io.err(`gan-studio ${name}: ${shape.message.split('\n')[0]}`)
    if (process.env.GAN_STUDIO_DEBUG && err instanceof Error) io.err(err.stack ?? '')
    return BAD_INPUT_CODES.has(shape.code) ? 2 : 1
  }
}

/** A run folder given by path, or by id under the studio home's runs folder. */
export async function resolveRunDir(arg: string): Promise<string> {
  const candidates = [resolve(arg)]
  if (!/[\\/]/.test(arg)) candidates.push(join(runsDir(), arg))
  for (const dir of candidates) {
    const found = await fsp.stat(join(dir, 'run.json')).catch(() => null)
    if (found?.isFile()) return dir
  }
  throw new StudioError('not-found', `No run at ${candidates[0]} (no run.json there).`)
}

export function parseNumberFlag(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value.trim())
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number (got "${value}")`)
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max} (got ${n})`)
  return n
}

export function parseSeedList(flag: string, value: string, maxSeed: number): number[] {
  const parts = value.split(',').map((s) => s.trim())
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--${flag} must be whole numbers separated by commas (got "${value}")`)
    const n = Number(p)
    if (n > maxSeed) throw new UsageError(`--${flag}: seed ${n} is out of range (0 to ${maxSeed})`)
    return n
  })
}

export function backendFlag(value: string | undefined): BackendChoice {
  let backend: BackendRequest | undefined
  if (value !== undefined) {
    backend = BACKEND_REQUESTS.find((b) => b === value)
    if (!backend) throw new UsageError(`--backend must be one of ${BACKEND_REQUESTS.join(', ')} (got "${value}")`)
  }
  return { backend: backend ?? 'auto', backendCacheFile: join(cacheDir(), 'backends.json') }
}

/** A bar on a terminal; a line every few seconds (and at the end) otherwise. */
export function progressPrinter(io: CommandIo, label: string): { update: (done: number, total: number) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null
  let last = Date.now()
  return {
    update(done, total) {
      if (io.tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar({ format: ` ${label} {bar} {value}/{total}`, barsize: 28, hideCursor: true }, cliProgress.Presets.shades_classic)
          bar.start(total, done)
        }
        bar.setTotal(total)
        bar.update(done)
        return
      }
      const now = Date.now()
      if (done === total || now - last > 3000) {
        last = now
        io.out(`${label}: ${done}/${total}`)
      }
    },
    stop() {
      bar?.stop()
      bar = null
    }
  }
}

export function formatPsi(psi: number): string {
  return Number.isInteger(psi) ? String(psi) : String(Math.round(psi * 1000) / 1000)
}
