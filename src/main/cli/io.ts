import type { ConfigField } from '@shared/config-fields'
import type { ErrorCode } from '@shared/errors'

/** Output for CLI commands; injected so tests can capture it. */
export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
  /** True when stdout is an interactive terminal (progress bars); false → plain lines. */
  tty: boolean
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
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

export function parseIntFlag(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--${flag} must be a whole number (got "${value}")`)
  const n = Number(value)
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max} (got ${n})`)
  return n
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
      return parseIntFlag(flag, value, field.minimum ?? Number.MIN_SAFE_INTEGER, field.maximum ?? Number.MAX_SAFE_INTEGER)!
    case 'choice':
      return parseChoice(flag, value, field.choices!)!
    case 'string':
      return value
    default:
      throw new Error(`--${flag}: a ${field.type} setting (${field.path}) has no flag parser`)
  }
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '--:--'
  const s = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`
}
