import { Readable } from 'node:stream'
import { protocol } from 'electron'
import { StudioError, toErrorShape } from '@shared/errors'
import { studioFileHeaders } from './util/mime'
import { openFileInside } from './util/safe-path'

/**
 * `studio://home/<path in home>`: how the desktop renderer loads sample grids and other files from
 * the studio home. Reads only inside the home — `..` (plain or percent-encoded), absolute paths and
 * symlinks that lead out are refused (util/safe-path.ts, shared with `serve`'s /files).
 */
export const STUDIO_SCHEME = 'studio'
export const STUDIO_HOST = 'home'

/** Must run before the app is ready. */
export function registerStudioScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: STUDIO_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }
  ])
}

export function handleStudioProtocol(home: string): void {
  protocol.handle(STUDIO_SCHEME, (request) => respondStudioFile(home, request.url, request.method))
}

/**
 * The raw (still percent-encoded) path inside the home that a `studio://home/…` URL names. Pure.
 * Throws for any other scheme or host.
 */
export function studioUrlPath(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new StudioError('bad-input', 'Not a studio file URL.')
  }
  if (parsed.protocol !== `${STUDIO_SCHEME}:` || parsed.host !== STUDIO_HOST) {
    throw new StudioError('bad-input', 'Not a studio file URL.')
  }
  return parsed.pathname.replace(/^\/+/, '')
}

/** Answers one protocol request: the file, or 400/403/404 with a short text. */
export async function respondStudioFile(home: string, url: string, method = 'GET'): Promise<Response> {
  if (method !== 'GET' && method !== 'HEAD') return text(405, 'Only GET is supported.')
  try {
    // Opened once and checked by what was opened, then read from that descriptor only.
    const opened = await openFileInside(home, studioUrlPath(url))
    const headers = studioFileHeaders(opened.real, opened.size)
    if (method === 'HEAD' || opened.size === 0) {
      await opened.handle.close()
      return new Response(method === 'HEAD' ? null : '', { status: 200, headers })
    }
    const stream = opened.handle.createReadStream({ start: 0, end: opened.size - 1, autoClose: true })
    const body = Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>
    return new Response(body, { status: 200, headers })
  } catch (err) {
    const error = toErrorShape(err)
    return text(error.code === 'not-found' ? 404 : error.code === 'bad-input' ? 403 : 500, error.message)
  }
}

function text(status: number, message: string): Response {
  return new Response(message, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } })
}
