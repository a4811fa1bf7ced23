import { promises as fsp } from 'node:fs'
import { join, resolve } from 'node:path'
import { BACKEND_REQUESTS, type BackendRequest } from '@shared/config'
import type { ConfigField } from '@shared/config-fields'
import { StudioError, toErrorShape, type ErrorCode } from '@shared/errors'
import { terminalSafe } from '@shared/text'
import type { BackendChoice } from '../generate/generator'
import { cacheDir, runsDir } from '../util/home'

/**
 * What every command shares: output, bad input as one clear line and exit code 2 (the same whether
 * a command runs through the dispatcher or directly), flag parsing, and run folders by path or id.
 */

/** Output for CLI commands; injected so tests can capture it. */
export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
  /** True when stdout is an interactive terminal (progress bars); false → plain lines. */
  tty: boolean
}

/** What a command needs of CliIo (tests may leave out `tty`: plain lines). */
export type CommandIo = Pick<CliIo, 'out' | 'err'> & Partial<Pick<CliIo, 'tty'>>

/** Everything the CLI prints goes through here: control characters in it (from names) are escaped. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(terminalSafe(line) + '\n'),
  err: (line) => process.stderr.write(terminalSafe(line) + '\n'),
  tty: Boolean(process.stdout.isTTY) && process.env.CI !== 'true'
}

/** Bad input: one clear line and exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Exit code for an error that ended a command: 2 when the input was at fault, 1 otherwise. */
export function exitCodeFor(code: ErrorCode): number {
  return code === 'not-found' || code === 'no-images' || code === 'bad-input' || code === 'invalid-params' || code === 'backend-unavailable' ? 2 : 1
}

/** Runs a command body; bad input → one line on stderr and 2, other failures → one line and 1. */
export async function runCommand(name: string, io: CommandIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body()
  } catch (err) {
    // util.parseArgs: unknown flag, missing value…
    const parseError = typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')
    if (err instanceof UsageError || parseError) {
      io.err(`gan-studio ${name}: ${(err as Error).message.split('\n')[0]}`)
      return 2
    }
    const shape = toErrorShape(err)
    io.err(`gan-studio ${name}: ${shape.message.split('\n')[0]}`)
    if (process.env.GAN_STUDIO_DEBUG && err instanceof Error) io.err(err.stack ?? '')
    return exitCodeFor(shape.code)
  }
}

/**
 * A number flag within [min, max] (undefined when the flag was not given); `integer` asks for a
 * whole number.
 */
export function parseNumberFlag(flag: string, value: string | undefined, min: number, max: number, opts: { integer?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (opts.integer ? !/^-?\d+$/.test(text) : text === '' || !Number.isFinite(Number(text)))
    throw new UsageError(`--${flag} must be ${opts.integer ? 'a whole number' : 'a number'} (got "${value}")`)
  const n = Number(text)
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max} (got ${n})`)
  return n
}

/** A whole-number flag within [min, max]. */
export function parseIntFlag(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  return parseNumberFlag(flag, value, min, max, { integer: true })
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

export function parseChoice<T extends string | number>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined
  const found = choices.find((c) => String(c) === value)
  if (found === undefined) throw new UsageError(`--${flag} must be one of ${choices.join(', ')} (got "${value}")`)
  return found
}

/** A flag that sets one run setting: its type, bounds and choices are the schema's. */
export function parseSettingFlag(flag: string, value: string, field: ConfigField): string | number {
  switch (field.type) {
    case 'integer':
    case 'number': {
      const n = parseNumberFlag(flag, value, field.minimum ?? -Infinity, field.maximum ?? Infinity, { integer: field.type === 'integer' })!
      if (field.exclusiveMinimum !== undefined && n <= field.exclusiveMinimum) throw new UsageError(`--${flag} must be more than ${field.exclusiveMinimum} (got ${n})`)
      if (field.exclusiveMaximum !== undefined && n >= field.exclusiveMaximum) throw new UsageError(`--${flag} must be less than ${field.exclusiveMaximum} (got ${n})`)
      return n
    }
    case 'choice':
      return parseChoice(flag, value, field.choices!)!
    case 'string':
      return value
    default:
      throw new Error(`--${flag}: a ${field.type} setting (${field.path}) has no flag parser`)
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

export function backendFlag(value: string | undefined): BackendChoice {
  let backend: BackendRequest | undefined
  if (value !== undefined) {
    backend = BACKEND_REQUESTS.find((b) => b === value)
    if (!backend) throw new UsageError(`--backend must be one of ${BACKEND_REQUESTS.join(', ')} (got "${value}")`)
  }
  return { backend: backend ?? 'auto', backendCacheFile: join(cacheDir(), 'backends.json') }
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '--:--'
  const s = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`
}
