import { isStudioErrorShape, type ErrorCode } from '@shared/errors'

/** A sentence a person can read, from anything a bridge call may throw. Never a stack trace. */
export function errorMessage(err: unknown, fallback = 'Something went wrong.'): string {
  let message: string | null = null
  if (isStudioErrorShape(err)) message = err.message
  else if (err instanceof Error) message = err.message
  else if (typeof err === 'string') message = err
  if (!message) return fallback
  // Electron prefixes IPC rejections ("Error invoking remote method 'x': Error: …"); keep the sentence.
  const stripped = message.replace(/^Error invoking remote method '[^']*':\s*(?:\w*Error:\s*)?/, '')
  const firstLine = stripped.split('\n')[0]?.trim() ?? ''
  if (!firstLine || /^\s*at\s/.test(firstLine)) return fallback
  return firstLine
}

/** The error's code when it has one. */
export function errorCode(err: unknown): ErrorCode | null {
  return isStudioErrorShape(err) ? err.code : null
}
