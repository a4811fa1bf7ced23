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

export const ERROR_CODES: readonly ErrorCode[] = [
  'invalid-params',
  'not-found',
  'no-images',
  'bad-input',
  'busy',
  'backend-unavailable',
  'diverged',
  'io',
  'unauthorized',
  'cancelled',
  'crashed',
  'internal'
]

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

/** A `{ code, message }` with one of the studio's codes (a Node error's 'ENOENT' is not one). */
export function isStudioErrorShape(value: unknown): value is StudioErrorShape {
  return (
    typeof value === 'object' &&
    value !== null &&
    (ERROR_CODES as readonly unknown[]).includes((value as { code?: unknown }).code) &&
    typeof (value as { message?: unknown }).message === 'string'
  )
}

const firstLine = (text: string | undefined): string => (text ?? '').split('\n')[0] ?? ''

/** Turns anything thrown into the `{ code, message }` shape, without leaking a stack. */
export function toErrorShape(err: unknown): StudioErrorShape {
  if (err instanceof StudioError) return { code: err.code, message: err.message }
  if (isStudioErrorShape(err)) return { code: err.code, message: err.message }
  if (typeof err === 'object' && err !== null) {
    const node = err as NodeLikeError
    const where = node.path ?? firstLine(node.message)
    switch (node.code) {
      case 'ENOENT':
        return { code: 'not-found', message: `Not found: ${where}` }
      case 'EACCES':
      case 'EPERM':
        return { code: 'io', message: `Permission denied: ${where}` }
      case 'ENOSPC':
        return { code: 'io', message: 'The disk is full.' }
      case 'ENOTDIR':
        return { code: 'bad-input', message: `Not a folder: ${where}` }
      case 'EISDIR':
        return { code: 'bad-input', message: `Is a folder, not a file: ${where}` }
    }
    if (typeof node.message === 'string') return { code: 'internal', message: firstLine(node.message) || 'Unexpected error' }
  }
  return { code: 'internal', message: String(err) }
}

interface NodeLikeError {
  code?: string
  path?: string
  message?: string
}
