import { toErrorShape } from '@shared/errors'
import { createReadStream, promises as fsp } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { EventName, Events } from '@shared/contract'
import { FILES_PATH, TOKEN_PARAM, WS_PATH, type ClientMessage, type ServerMessage } from '@shared/wire'
import { createDispatcher, type Dispatch } from '../bridge/dispatch'
import { handlers } from '../handlers'
import { Studio, type StudioOptions } from '../services/studio'
import { locateBuilt, nodeTrainerSpawner } from '../services/trainer-spawn'
import type { SpawnTrainer } from '../services/child-connection'
import { contentTypeFor, studioFileHeaders } from '../util/mime'
import { resolveFileInside } from '../util/safe-path'
import { authenticate, cookieName, newToken, sameOrigin } from './auth'

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
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024

/**
 * `gan-studio serve`: the built renderer over HTTP and the studio contract over a WebSocket, both
 * behind a random access token (query `?token=`, then a same-site cookie for the page's assets).
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? newToken()
  const studio = new Studio({
    home: options.home,
    mode: 'browser',
    spawnTrainer: options.spawnTrainer ?? nodeTrainerSpawner({ entry: locateBuilt('main/trainer-process.js') }),
    ...(options.trainer ? { trainer: options.trainer } : {})
  })
  await studio.prepare()
  const dispatch = createDispatcher(handlers, studio)
  const sockets = new Set<WebSocket>()
  let port = 0

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendText(res, 500, toErrorShape(err).message)
      else res.destroy()
    })
  })

  const handleHttp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setCommonHeaders(res)
    const auth = authenticate(req, token, port)
    if (!auth) {
      sendText(
        res,
        401,
        'GAN Studio needs its access token. Open the full link that `gan-studio serve` printed (it ends in ?token=…).'
      )
      return
    }
    if (auth === 'query') {
      res.setHeader('Set-Cookie', `${cookieName(port)}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      sendText(res, 405, 'Only GET and HEAD are supported here.')
      return
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    if (pathname === WS_PATH) {
      sendText(res, 426, 'This address is the studio WebSocket.')
      return
    }
    if (pathname.startsWith(FILES_PATH)) {
      await sendHomeFile(req, res, options.home, pathname.slice(FILES_PATH.length))
      return
    }
    await sendRendererFile(req, res, options.rendererDir, pathname)
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    if (pathname !== WS_PATH) return refuseUpgrade(socket, 404, 'Not Found')
    if (!authenticate(req, token, port)) return refuseUpgrade(socket, 401, 'Unauthorized')
    if (!sameOrigin(req)) return refuseUpgrade(socket, 403, 'Forbidden')
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      ws.on('error', () => sockets.delete(ws))
      ws.on('message', (data, isBinary) => {
        if (isBinary) return
        void answer(ws, dispatch, data.toString())
      })
    })
  })

  const unsubscribe = studio.events.subscribe(<E extends EventName>(name: E, payload: Events[E]) => {
    const text = JSON.stringify({ type: 'event', name, payload } as ServerMessage)
    for (const ws of sockets) {
      if (ws.readyState !== ws.OPEN) continue
      if (name === 'train.progress' && ws.bufferedAmount > SLOW_CLIENT_BYTES) continue
      ws.send(text)
    }
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port

  let closing: Promise<void> | null = null
  return {
    url: `http://${urlHost(host)}:${port}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`,
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

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
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
  let file: string
  let size: number
  try {
    file = await resolveFileInside(home, rawPath)
    const stat = await fsp.stat(file)
    if (!stat.isFile()) return sendText(res, 404, 'Not a file.')
    size = stat.size
  } catch (err) {
    const error = toErrorShape(err)
    return sendText(res, error.code === 'not-found' ? 404 : error.code === 'bad-input' ? 403 : 500, error.message)
  }
  for (const [name, value] of Object.entries(studioFileHeaders(file, size))) res.setHeader(name, value)
  streamFile(req, res, file)
}

async function sendRendererFile(req: IncomingMessage, res: ServerResponse, rendererDir: string, pathname: string): Promise<void> {
  const index = join(rendererDir, 'index.html')
  let file = index
  if (pathname !== '/' && pathname !== '/index.html') {
    try {
      file = await resolveFileInside(rendererDir, pathname.replace(/^\/+/, ''))
      if (!(await fsp.stat(file)).isFile()) file = index
    } catch (err) {
      const error = toErrorShape(err)
      if (error.code === 'bad-input') return sendText(res, 403, error.message)
      // An unknown path without an extension is a client-side route: the app answers it.
      if (extname(pathname) !== '') return sendText(res, 404, 'Not found.')
      file = index
    }
  }
  let size: number
  try {
    size = (await fsp.stat(file)).size
  } catch {
    return sendText(res, 500, 'The studio page is missing: build it with `npm run build`.')
  }
  res.statusCode = 200
  res.setHeader('Content-Type', contentTypeFor(file))
  res.setHeader('Content-Length', String(size))
  res.setHeader('Cache-Control', file === index ? 'no-store' : 'no-cache')
  streamFile(req, res, file)
}

function streamFile(req: IncomingMessage, res: ServerResponse, file: string): void {
  res.statusCode = 200
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  const stream = createReadStream(file)
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}
