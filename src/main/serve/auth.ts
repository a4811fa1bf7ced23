import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { TOKEN_PARAM } from '@shared/wire'

/** A fresh access token: 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The cookie that remembers the token for the page's own asset requests (per port: cookies ignore ports). */
export function cookieName(port: number): string {
  return `gan-studio-token-${port}`
}

export type TokenSource = 'query' | 'cookie' | 'header'

/**
 * Which presented credential matches the token, if any: `?token=` in the URL, the cookie set when
 * the page was first opened with it, or `Authorization: Bearer`. Compared in constant time.
 */
export function authenticate(req: IncomingMessage, token: string, port: number): TokenSource | null {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const fromQuery = url.searchParams.get(TOKEN_PARAM)
  if (fromQuery !== null) return sameToken(fromQuery, token) ? 'query' : null
  const fromCookie = readCookie(req.headers.cookie, cookieName(port))
  if (fromCookie !== null && sameToken(fromCookie, token)) return 'cookie'
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ') && sameToken(auth.slice(7).trim(), token)) return 'header'
  return null
}

export function sameToken(presented: string, token: string): boolean {
  const a = Buffer.from(presented, 'utf8')
  const b = Buffer.from(token, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim())
      } catch {
        return null
      }
    }
  }
  return null
}

/**
 * A browser page from another site must not drive the studio through the visitor's cookie: a
 * WebSocket whose Origin is not this server's own host is refused.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (!origin) return true // not a browser (or a same-origin request that omits it)
  try {
    return new URL(origin).host === req.headers.host
  } catch {
    return false
  }
}
