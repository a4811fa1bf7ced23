import {
  REQUEST_NAMES,
  type EventName,
  type Events,
  type RequestName,
  type StudioBridge
} from '@shared/contract'
import { StudioError, isStudioErrorShape } from '@shared/errors'
import { FILES_PATH, TOKEN_PARAM, WS_PATH, type ClientMessage, type ServerMessage } from '@shared/wire'
import type { ConnectionAware, ConnectionState } from './connection'

/** The subset of the browser's WebSocket this client uses (so tests can pass a fake). */
export interface SocketLike {
  readonly readyState: number
  onopen: ((ev: unknown) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}
export type SocketFactory = (url: string) => SocketLike

export interface SocketBridgeOptions {
  /** Page origin, e.g. `http://127.0.0.1:8080`. */
  origin: string
  token: string
  createSocket?: SocketFactory
  /**
   * Asked after a connection attempt fails before it ever opened: true when the server refuses the
   * token (then the client stops retrying and says so), false for any other failure.
   */
  isRefused?: () => Promise<boolean>
  /** Delay before the n-th reconnection attempt (n from 1). */
  backoffMs?: (attempt: number) => number
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (handle: unknown) => void
}

export type SocketBridge = StudioBridge & ConnectionAware & { close(): void }

const OPEN = 1
/** Close codes a server uses to say "not allowed" (policy violation, or 4000 + HTTP 401/403). */
const REFUSED_CLOSE_CODES = new Set([1008, 4401, 4403])

const LOST_MESSAGE = 'Lost the connection to the studio server. Reconnecting…'
const UNREACHABLE_MESSAGE =
  'Cannot reach the studio server. Check that `gan-studio serve` is still running; the page keeps trying.'
const REFUSED_MESSAGE =
  'The studio server refused this page’s access token. Open the exact link that `gan-studio serve` printed.'

function defaultBackoff(attempt: number): number {
  return Math.min(5000, 250 * 2 ** Math.min(attempt - 1, 5))
}

function wsUrl(origin: string, token: string): string {
  const url = new URL(WS_PATH, origin)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set(TOKEN_PARAM, token)
  return url.toString()
}

/** `/files/<path>?token=…`, each path segment encoded. */
export function browserFileUrl(pathInHome: string, token: string): string {
  const segments = pathInHome
    .split(/[\\/]+/)
    .filter((s) => s.length > 0)
    .map((s) => encodeURIComponent(s))
  return `${FILES_PATH}${segments.join('/')}?${TOKEN_PARAM}=${encodeURIComponent(token)}`
}

/**
 * The studio contract over a WebSocket (browser mode, `gan-studio serve`). Requests wait for the
 * socket while it connects; when it drops, everything in flight is rejected with a sentence a
 * person can read and the client reconnects with backoff. Event listeners survive reconnects.
 */
export function createSocketBridge(options: SocketBridgeOptions): SocketBridge {
  const createSocket: SocketFactory = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike)
  const backoff = options.backoffMs ?? defaultBackoff
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms))
  const clearTimer = options.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>))
  const url = wsUrl(options.origin, options.token)

  let socket: SocketLike | null = null
  let state: ConnectionState = 'connecting'
  let everOpened = false
  let attempts = 0
  let closedByUser = false
  let retryTimer: unknown = null
  let nextId = 1

  type Pending = { name: RequestName; resolve: (v: unknown) => void; reject: (e: unknown) => void }
  const pending = new Map<number, Pending>()
  const queued: ClientMessage[] = []
  const listeners = new Map<EventName, Set<(payload: never) => void>>()
  const connectionListeners = new Set<(s: ConnectionState) => void>()

  function setState(next: ConnectionState): void {
    if (state === next) return
    state = next
    for (const cb of connectionListeners) cb(next)
  }

  function failAll(message: string, code: 'io' | 'unauthorized'): void {
    const err = new StudioError(code, message)
    const settled = [...pending.values()]
    pending.clear()
    queued.length = 0
    for (const p of settled) p.reject(err)
  }

  function connect(): void {
    if (closedByUser) return
    attempts += 1
    setState('connecting')
    let opened = false
    let ws: SocketLike
    try {
      ws = createSocket(url)
    } catch {
      scheduleRetry(false)
      return
    }
    socket = ws
    ws.onopen = () => {
      opened = true
      everOpened = true
      attempts = 0
      setState('open')
      for (const msg of queued.splice(0)) ws.send(JSON.stringify(msg))
    }
    ws.onmessage = (ev) => handleMessage(ev.data)
    ws.onerror = () => {
      // A close event always follows; it decides what to do.
    }
    ws.onclose = (ev) => {
      if (socket === ws) socket = null
      if (closedByUser) {
        setState('closed')
        return
      }
      if (REFUSED_CLOSE_CODES.has(ev.code)) {
        refuse()
        return
      }
      if (!opened && !everOpened && options.isRefused) {
        const probe = options.isRefused
        probe().then(
          (refused) => (refused ? refuse() : scheduleRetry(opened)),
          () => scheduleRetry(opened)
        )
        return
      }
      scheduleRetry(opened)
    }
  }

  function refuse(): void {
    setState('refused')
    failAll(REFUSED_MESSAGE, 'unauthorized')
  }

  function scheduleRetry(wasOpen: boolean): void {
    setState('closed')
    failAll(wasOpen || everOpened ? LOST_MESSAGE : UNREACHABLE_MESSAGE, 'io')
    if (closedByUser) return
    if (retryTimer !== null) clearTimer(retryTimer)
    retryTimer = setTimer(() => {
      retryTimer = null
      connect()
    }, backoff(Math.max(1, attempts)))
  }

  function handleMessage(data: unknown): void {
    if (typeof data !== 'string') return
    let msg: ServerMessage
    try {
      msg = JSON.parse(data) as ServerMessage
    } catch {
      return
    }
    if (msg.type === 'reply') {
      const p = pending.get(msg.id)
      if (!p) return
      pending.delete(msg.id)
      const reply = msg.reply as { ok: boolean; result?: unknown; error?: unknown }
      if (reply.ok) p.resolve(reply.result)
      else if (isStudioErrorShape(reply.error)) p.reject(new StudioError(reply.error.code, reply.error.message))
      else p.reject(new StudioError('internal', `The studio server could not answer “${p.name}”.`))
    } else if (msg.type === 'event') {
      const set = listeners.get(msg.name)
      if (!set) return
      for (const cb of [...set]) {
        try {
          ;(cb as (payload: unknown) => void)(msg.payload)
        } catch (err) {
          console.error(`Listener for ${msg.name} failed`, err)
        }
      }
    }
  }

  function request(name: RequestName, params: unknown): Promise<unknown> {
    if (state === 'refused') return Promise.reject(new StudioError('unauthorized', REFUSED_MESSAGE))
    const id = nextId++
    const msg: ClientMessage = { type: 'request', id, name, params: params ?? {} }
    return new Promise((resolve, reject) => {
      pending.set(id, { name, resolve, reject })
      if (socket && socket.readyState === OPEN && state === 'open') socket.send(JSON.stringify(msg))
      else queued.push(msg)
    })
  }

  const bridge = {
    on<E extends EventName>(event: E, cb: (payload: Events[E]) => void): () => void {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      const fn = cb as (payload: never) => void
      set.add(fn)
      return () => {
        set.delete(fn)
      }
    },
    fileUrl(pathInHome: string): string {
      return browserFileUrl(pathInHome, options.token)
    },
    get connection(): ConnectionState {
      return state
    },
    onConnection(cb: (s: ConnectionState) => void): () => void {
      connectionListeners.add(cb)
      return () => {
        connectionListeners.delete(cb)
      }
    },
    close(): void {
      closedByUser = true
      if (retryTimer !== null) clearTimer(retryTimer)
      socket?.close(1000, 'closed by the page')
      failAll('The connection to the studio server was closed.', 'io')
      setState('closed')
    }
  }
  // One method per request, as the contract lists them (not Object.assign: it would freeze the getter).
  for (const name of REQUEST_NAMES) (bridge as Record<string, unknown>)[name] = (params: unknown) => request(name, params)

  connect()
  return bridge as unknown as SocketBridge
}
