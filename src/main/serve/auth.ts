import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { hostname, networkInterfaces } from 'node:os'
import { TOKEN_PARAM } from '@shared/wire'

/** A fresh access token: 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The access token as a request presents it: `?token=` in the URL or `Authorization: Bearer`.
 * There is no cookie: cookies are not scoped to a port, so a token in a cookie for 127.0.0.1 would
 * be sent to every other server on the machine. The page keeps the token and sends it explicitly.
 * `presented` tells "no token" (the page's own code may load) from "a wrong token" (refused).
 */
export function checkToken(url: URL, req: IncomingMessage, token: string): { presented: boolean; valid: boolean } {
  const fromQuery = url.searchParams.get(TOKEN_PARAM)
  if (fromQuery !== null) return { presented: true, valid: sameToken(fromQuery, token) }
  const auth = req.headers.authorization
  if (typeof auth === 'string' && auth.length > 0) {
    return { presented: true, valid: auth.startsWith('Bearer ') && sameToken(auth.slice(7).trim(), token) }
  }
  return { presented: false, valid: false }
}

/** Constant-time comparison (for equal lengths; the length of a random token is no secret). */
export function sameToken(presented: string, token: string): boolean {
  const a = Buffer.from(presented, 'utf8')
  const b = Buffer.from(token, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]']
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]'])

/** `host` as it appears in a URL or a Host header (IPv6 in brackets), lower case. */
export function urlHost(host: string): string {
  const h = host.toLowerCase()
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h
}

/**
 * The `Host` values the server answers to (`name:port`, lower case): the loopback names, the
 * `--host` it was started with, and for a wildcard address this machine's own addresses and name.
 * Anything else is a DNS-rebinding attempt (a hostile name that resolves to this machine) or a
 * misdirected request, and is refused.
 */
export function allowedHosts(bindHost: string, port: number): Set<string> {
  const names = new Set<string>(LOOPBACK_NAMES)
  if (WILDCARDS.has(bindHost.toLowerCase())) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(urlHost(a.address.split('%')[0]!))
    names.add(urlHost(hostname()))
  } else {
    names.add(urlHost(bindHost))
  }
  // Browsers leave the default port out of Host and Origin.
  return new Set([...names].flatMap((n) => (port === 80 ? [`${n}:${port}`, n] : [`${n}:${port}`])))
}

/** True when the request's Host header names this server. */
export function hostAllowed(req: IncomingMessage, allowed: Set<string>): boolean {
  const host = req.headers.host
  return typeof host === 'string' && allowed.has(host.trim().toLowerCase())
}

/**
 * A browser says which page a request comes from in `Origin`. Requests without one are not from
 * another site's page (browsers always send it on WebSockets and cross-origin requests); with one,
 * it must be this server's own origin.
 */
export function originAllowed(req: IncomingMessage, allowed: Set<string>): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true
  if (typeof origin !== 'string') return false
  let parsed: URL
  try {
    parsed = new URL(origin)
  } catch {
    return false
  }
  return parsed.protocol === 'http:' && allowed.has(parsed.host.toLowerCase())
}
