/**
 * Errors that cross a boundary (IPC, WebSocket, CLI) carry a stable code and a sentence a person
 * can read. Stack traces stay in logs.
 */
export type ErrorCode =
  | 'invalid-params'
  | 'not-found'
  | 'no-images'
  | 'bad-input'
  | 'busy'
  | 'backend-unavailable'
  | 'diverged'
  | 'io'
  | 'unauthorized'
  | 'cancelled'
  | 'crashed'
  | 'internal'

export interface StudioErrorShape {
  code: ErrorCode
  message: string
}

export class StudioError extends Error implements StudioErrorShape {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'StudioError'
    this.code = code
  }
  toJSON(): StudioErrorShape {
    return { code: this.code, message: this.message }
  }
}

export function isStudioErrorShape(value: unknown): value is StudioErrorShape {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  )
}

/** Turns anything thrown into the `{ code, message }` shape, without leaking a stack. */
export function toErrorShape(err: unknown): StudioErrorShape {
  if (err instanceof StudioError) return { code: err.code, message: err.message }
  if (isStudioErrorShape(err)) return { code: err.code, message: err.message }
  if (err instanceof Error) {
    const errno = (err as NodeLikeError).code
    if (errno === 'ENOENT') return { code: 'not-found', message: `Not found: ${(err as NodeLikeError).path ?? err.message}` }
    if (errno === 'EACCES' || errno === 'EPERM')
      return { code: 'io', message: `Permission denied: ${(err as NodeLikeError).path ?? err.message}` }
    if (errno === 'ENOSPC') return { code: 'io', message: 'The disk is full.' }
    return { code: 'internal', message: err.message.split('\n')[0] ?? 'Unexpected error' }
  }
  return { code: 'internal', message: String(err) }
}

interface NodeLikeError extends Error {
  code?: string
  path?: string
}
