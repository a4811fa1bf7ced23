import { toErrorShape } from '@shared/errors'
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import { pipeline, type Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { EventName, Events } from '@shared/contract'
import { FILES_PATH, TOKEN_PARAM, WS_PATH, type ClientMessage, type ServerMessage } from '@shared/wire'
import { createDispatcher, type Dispatch } from '../bridge/dispatch'
import { handlers } from '../handlers'
import { Studio, type StudioOptions } from '../services/studio'
import { locateBuilt, nodeTrainerSpawner } from '../services/trainer-spawn'
import type { SpawnTrainer } from '../services/child-connection'
import { contentTypeFor, studioFileHeaders } from '../util/mime'
import { openFileInside, openResolvedInside, type OpenedFile } from '../util/safe-path'
import { printable } from '@shared/text'
import { allowedHosts, checkToken, hostAllowed, newToken, originAllowed } from './auth'

export interface StartServerOptions {
  /** Loopback unless asked otherwise. */
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** The studio home (runs, datasets). */
  home: string
  /** The built renderer (`out/renderer`), served as-is. */
  rendererDir: string
  /** Default: plain Node children running the built `out/main/trainer-process.js`. */
  spawnTrainer?: SpawnTrainer
  /** Default: a fresh random one. */
  token?: string
  trainer?: StudioOptions['trainer']
  /** Where refused requests and handler failures are reported, one line each (default: stderr). */
  log?: (line: string) => void
}

export interface RunningServer {
  /** Open this: `http://host:port/?token=…`. */
  url: string
  token: string
  port: number
  studio: Studio
  /** Stops the running job (with a checkpoint), closes every socket and the server. */
  close(): Promise<void>
}

/** Progress events are skipped for a socket with this much unsent data (a slow client). */
const SLOW_CLIENT_BYTES = 4 * 1024 * 1024
/** The largest request the studio sends is a few kilobytes (a run's settings, a note). */
export const MAX_MESSAGE_BYTES = 256 * 1024
/** Requests one socket may have in flight; more are answered `busy` at once. */
export const MAX_IN_FLIGHT = 32
/** Open sockets at a time (a page uses one; reloads and tabs add a few). */
export const MAX_SOCKETS = 32

/**
 * `gan-studio serve`: the built renderer over HTTP and the studio contract over a WebSocket. The
 * socket and the studio's files (`/files/…`) need the random access token, sent explicitly by the
 * page (`?token=` or `Authorization: Bearer`); the renderer's own code is served without it (it is
 * the same for every install and holds no data). Every request must name this server in `Host`
 * (no DNS rebinding) and, from a browser, come from this server's own origin. No handler can bring
 * the process down: a bad request gets a 4xx and one log line.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? newToken()
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`))
  const note = (req: IncomingMessage, status: number, why: string): void => {
    const target = printable(String(req.url ?? '').slice(0, 200))
    log(`serve: ${status} ${printable(String(req.method ?? '?'))} ${target}: ${why}`)
  }
  const studio = new Studio({
    home: options.home,
    mode: 'browser',
    spawnTrainer: options.spawnTrainer ?? nodeTrainerSpawner({ entry: locateBuilt('main/trainer-process.js') }),
    ...(options.trainer ? { trainer: options.trainer } : {})
  })
  await studio.prepare()
  const dispatch = createDispatcher(handlers, studio)
  const sockets = new Set<WebSocket>()
  let hosts = new Set<string>()

  const server = createServer({ requestTimeout: 60_000, headersTimeout: 20_000 }, (req, res) => {
    const fail = (err: unknown): void => {
      note(req, 500, toErrorShape(err).message)
      if (!res.headersSent) sendText(res, 500, 'The studio server could not answer this request.')
      else res.destroy()
    }
    try {
      handleHttp(req, res).catch(fail)
    } catch (err) {
      fail(err)
    }
  })
  // A request line or headers that do not parse: 400 and a log line, never an exception.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code !== 'ECONNRESET') log(`serve: 400 malformed request (${printable(err.code ?? err.message)})`)
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    else socket.destroy()
  })

  /** Checks every request shares: a path, this server's Host, this server's Origin. */
  const admit = (req: IncomingMessage): { url: URL } | { status: number; text: string } => {
    const url = parseTarget(req.url)
    if (!url) return { status: 400, text: 'Bad request: the address is not a path on this server.' }
    if (!hostAllowed(req, hosts))
      return { status: 421, text: `This studio server answers only to ${[...hosts].join(', ')} (the Host header named another).` }
    if (!originAllowed(req, hosts)) return { status: 403, text: 'Refused: the request comes from another site’s page.' }
    return { url }
  }

  const handleHttp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setCommonHeaders(res)
    const admitted = admit(req)
    if (!('url' in admitted)) {
      note(req, admitted.status, admitted.text)
      return sendText(res, admitted.status, admitted.text)
    }
    const { pathname } = admitted.url
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return sendText(res, 405, 'Only GET and HEAD are supported here.')
    }
    const credential = checkToken(admitted.url, req, token)
    const needsToken = pathname === WS_PATH || pathname.startsWith(FILES_PATH)
    if ((credential.presented || needsToken) && !credential.valid) {
      return sendText(res, 401, 'GAN Studio needs its access token. Open the full link that `gan-studio serve` printed (it ends in ?token=…).')
    }
    if (pathname === WS_PATH) return sendText(res, 426, 'This address is the studio WebSocket.')
    if (pathname.startsWith(FILES_PATH)) return sendHomeFile(req, res, options.home, pathname.slice(FILES_PATH.length))
    return sendRendererFile(req, res, options.rendererDir, pathname)
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false })
  wss.on('error', (err) => log(`serve: socket server error (${printable(err.message)})`))
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const refuse = (status: number, why: string): void => {
      note(req, status, why)
      refuseUpgrade(socket, status)
    }
    const admitted = admit(req)
    if (!('url' in admitted)) return refuse(admitted.status, admitted.text)
    if (admitted.url.pathname !== WS_PATH) return refuse(404, 'no socket at this address')
    if (!checkToken(admitted.url, req, token).valid) return refuse(401, 'missing or wrong access token')
    if (sockets.size >= MAX_SOCKETS) return refuse(503, `already ${MAX_SOCKETS} sockets open`)
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      let inFlight = 0
      ws.on('close', () => sockets.delete(ws))
      ws.on('error', (err) => {
        sockets.delete(ws)
        log(`serve: socket closed after an error (${printable(err.message)})`)
      })
      ws.on('message', (data, isBinary) => {
        try {
          if (isBinary) return send(ws, refusal(-1, 'invalid-params', 'Send requests as JSON text.'))
          if (inFlight >= MAX_IN_FLIGHT) {
            return send(ws, refusal(peekId(data.toString()), 'busy', `More than ${MAX_IN_FLIGHT} requests at once on one connection; wait for some answers.`))
          }
          inFlight += 1
          answer(ws, dispatch, data.toString())
            .catch((err: unknown) => log(`serve: a request failed (${printable(toErrorShape(err).message)})`))
            .finally(() => (inFlight -= 1))
        } catch (err) {
          log(`serve: a socket message failed (${printable(toErrorShape(err).message)})`)
        }
      })
    })
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    try {
      upgrade(req, socket, head)
    } catch (err) {
      note(req, 400, toErrorShape(err).message)
      refuseUpgrade(socket, 400)
    }
  })

  const unsubscribe = studio.events.subscribe(<E extends EventName>(name: E, payload: Events[E]) => {
    const text = JSON.stringify({ type: 'event', name, payload } as ServerMessage)
    for (const ws of sockets) {
      if (ws.readyState !== ws.OPEN) continue
      if (name === 'train.progress' && ws.bufferedAmount > SLOW_CLIENT_BYTES) continue
      try {
        ws.send(text)
      } catch (err) {
        log(`serve: could not push an event (${printable(toErrorShape(err).message)})`)
      }
    }
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (err) => log(`serve: server error (${printable(err.message)})`))
  const port = (server.address() as AddressInfo).port
  hosts = allowedHosts(host, port)

  let closing: Promise<void> | null = null
  return {
    url: `http://${linkHost(host)}:${port}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`,
    token,
    port,
    studio,
    close() {
      closing ??= (async () => {
        await studio.shutdown({ timeoutMs: 60_000 })
        unsubscribe()
        for (const ws of sockets) ws.close(1001, 'The studio server is shutting down.')
        wss.close()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      })()
      return closing
    }
  }
}

/**
 * The request target as a URL on this server, or null when it is not a path (`*`, an absolute
 * URL, a bracket or port that does not parse). `//x` is a path here, never a host.
 */
export function parseTarget(raw: string | undefined): URL | null {
  if (typeof raw !== 'string' || !raw.startsWith('/')) return null
  try {
    return new URL(`http://studio.invalid${raw}`)
  } catch {
    return null
  }
}

function refusal(id: number, code: 'invalid-params' | 'busy', message: string): ServerMessage {
  return { type: 'reply', id, reply: { ok: false, error: { code, message } } }
}

/** The id of a request that will not be parsed in full (for a `busy` reply); -1 when there is none. */
function peekId(text: string): number {
  const m = /"id"\s*:\s*(\d{1,15})\b/.exec(text.slice(0, 4096))
  return m ? Number(m[1]) : -1
}

/** One socket message: parse, dispatch, reply with the same id. Malformed messages get a readable error. */
async function answer(ws: WebSocket, dispatch: Dispatch, text: string): Promise<void> {
  let message: Partial<ClientMessage>
  try {
    message = JSON.parse(text) as Partial<ClientMessage>
  } catch {
    return send(ws, { type: 'reply', id: -1, reply: { ok: false, error: { code: 'invalid-params', message: 'The message is not JSON.' } } })
  }
  const id = typeof message?.id === 'number' && Number.isSafeInteger(message.id) ? message.id : -1
  if (typeof message !== 'object' || message === null || message.type !== 'request' || id < 0) {
    return send(ws, {
      type: 'reply',
      id,
      reply: { ok: false, error: { code: 'invalid-params', message: 'Expected { type: "request", id, name, params }.' } }
    })
  }
  const reply = await dispatch(message.name, message.params)
  send(ws, { type: 'reply', id, reply })
}

function send(ws: WebSocket, message: ServerMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message))
}

function refuseUpgrade(socket: Duplex, status: number): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroy()
}

function setCommonHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.end(`${text}\n`)
}

async function sendHomeFile(req: IncomingMessage, res: ServerResponse, home: string, rawPath: string): Promise<void> {
  let opened: OpenedFile
  try {
    opened = await openFileInside(home, rawPath)
  } catch (err) {
    return sendFileError(res, err)
  }
  for (const [name, value] of Object.entries(studioFileHeaders(opened.real, opened.size))) res.setHeader(name, value)
  streamOpened(req, res, opened)
}

async function sendRendererFile(req: IncomingMessage, res: ServerResponse, rendererDir: string, pathname: string): Promise<void> {
  let opened: OpenedFile | null = null
  if (pathname !== '/' && pathname !== '/index.html') {
    try {
      opened = await openFileInside(rendererDir, pathname.replace(/^\/+/, ''))
    } catch (err) {
      const error = toErrorShape(err)
      if (error.code === 'bad-input') return sendText(res, 403, error.message)
      // An unknown path without an extension is a client-side route: the app answers it.
      if (error.code !== 'not-found' || extname(pathname) !== '') return sendText(res, 404, 'Not found.')
    }
  }
  const isIndex = opened === null
  if (!opened) {
    try {
      opened = await openResolvedInside(rendererDir, join(rendererDir, 'index.html'))
    } catch {
      return sendText(res, 500, 'The studio page is missing: build it with `npm run build`.')
    }
  }
  res.setHeader('Content-Type', contentTypeFor(opened.real))
  res.setHeader('Content-Length', String(opened.size))
  res.setHeader('Cache-Control', isIndex ? 'no-store' : 'no-cache')
  streamOpened(req, res, opened)
}

function sendFileError(res: ServerResponse, err: unknown): void {
  const error = toErrorShape(err)
  sendText(res, error.code === 'not-found' ? 404 : error.code === 'bad-input' ? 403 : 500, error.message)
}

/** Streams the descriptor that was checked (never the name again), `size` bytes at most. */
function streamOpened(req: IncomingMessage, res: ServerResponse, opened: OpenedFile): void {
  res.statusCode = 200
  if (req.method === 'HEAD' || opened.size === 0) {
    void opened.handle.close().catch(() => undefined)
    res.end()
    return
  }
  const stream = opened.handle.createReadStream({ start: 0, end: opened.size - 1, autoClose: true })
  pipeline(stream, res, () => {
    void opened.handle.close().catch(() => undefined)
  })
}

function linkHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}
