import type { ErrorCode } from '@shared/errors'
import { terminalSafe } from '@shared/text'

/** Output for CLI commands; injected so tests can capture it. */
export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
  /** True when stdout is an interactive terminal (progress bars); false → plain lines. */
  tty: boolean
}

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

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '--:--'
  const s = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`
}
