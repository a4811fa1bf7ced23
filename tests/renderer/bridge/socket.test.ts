import { describe, expect, it, vi } from 'vitest'
import { StudioError } from '@shared/errors'
import type { ClientMessage, ServerMessage } from '@shared/wire'
import { browserFileUrl, createSocketBridge, type SocketLike } from '../../../src/renderer/src/bridge/socket'
import { resolveToken, TOKEN_STORAGE_KEY } from '../../../src/renderer/src/bridge/token'

class FakeSocket implements SocketLike {
  readyState = 0
  onopen: ((ev: unknown) => void) | null = null
  onclose: ((ev: { code: number; reason: string }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  sent: ClientMessage[] = []
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data) as ClientMessage)
  }
  close(code = 1000): void {
    this.drop(code)
  }
  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }
  drop(code = 1006): void {
    this.readyState = 3
    this.onclose?.({ code, reason: '' })
  }
  reply(msg: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(msg) })
  }
}

function setup(opts: { isRefused?: () => Promise<boolean> } = {}) {
  const sockets: FakeSocket[] = []
  const timers: (() => void)[] = []
  const bridge = createSocketBridge({
    origin: 'http://127.0.0.1:5555',
    token: 'secret token',
    createSocket: (url) => {
      const s = new FakeSocket(url)
      sockets.push(s)
      return s
    },
    setTimer: (fn) => {
      timers.push(fn)
      return timers.length
    },
    clearTimer: () => {},
    ...opts
  })
  return { bridge, sockets, runTimers: () => timers.splice(0).forEach((f) => f()) }
}

describe('socket bridge', () => {
  it('connects to /ws with the token and sends requests once open', async () => {
    const { bridge, sockets } = setup()
    expect(sockets[0]!.url).toBe('ws://127.0.0.1:5555/ws?token=secret+token')
    const pending = bridge['runs.list']({})
    expect(sockets[0]!.sent).toHaveLength(0)
    sockets[0]!.open()
    expect(sockets[0]!.sent).toEqual([{ type: 'request', id: 1, name: 'runs.list', params: {} }])
    sockets[0]!.reply({ type: 'reply', id: 1, reply: { ok: true, result: [] } })
    await expect(pending).resolves.toEqual([])
    expect(bridge.connection).toBe('open')
  })

  it('turns error replies into StudioErrors with the readable message', async () => {
    const { bridge, sockets } = setup()
    sockets[0]!.open()
    const p = bridge['runs.get']({ id: 'x' })
    sockets[0]!.reply({ type: 'reply', id: 1, reply: { ok: false, error: { code: 'not-found', message: 'No run “x”.' } } })
    const err = await p.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StudioError)
    expect(err).toMatchObject({ code: 'not-found', message: 'No run “x”.' })
  })

  it('rejects requests in flight with a readable error when the connection drops, then reconnects', async () => {
    const { bridge, sockets, runTimers } = setup()
    const states: string[] = []
    bridge.onConnection((s) => states.push(s))
    sockets[0]!.open()
    const p = bridge['runs.list']({})
    sockets[0]!.drop()
    await expect(p).rejects.toMatchObject({ code: 'io', message: expect.stringMatching(/lost the connection/i) })
    expect(bridge.connection).toBe('closed')
    runTimers()
    expect(sockets).toHaveLength(2)
    sockets[1]!.open()
    expect(states).toEqual(['open', 'closed', 'connecting', 'open'])
  })

  it('keeps event listeners across reconnects and lets them unsubscribe', () => {
    const { bridge, sockets, runTimers } = setup()
    const seen: number[] = []
    const off = bridge.on('train.progress', (p) => seen.push(p.step))
    sockets[0]!.open()
    const event = (step: number): ServerMessage => ({
      type: 'event',
      name: 'train.progress',
      payload: { runId: 'r', step, steps: 10, imagesPerSec: 1, etaMs: null, metric: null }
    })
    sockets[0]!.reply(event(1))
    sockets[0]!.drop()
    runTimers()
    sockets[1]!.open()
    sockets[1]!.reply(event(2))
    off()
    sockets[1]!.reply(event(3))
    expect(seen).toEqual([1, 2])
  })

  it('one failing listener does not stop the others', () => {
    const { bridge, sockets } = setup()
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    const seen: string[] = []
    bridge.on('train.log', () => {
      throw new Error('boom')
    })
    bridge.on('train.log', (l) => seen.push(l.message))
    sockets[0]!.open()
    sockets[0]!.reply({ type: 'event', name: 'train.log', payload: { runId: null, level: 'info', message: 'hi', time: 'now' } })
    expect(seen).toEqual(['hi'])
    spy.mockRestore()
  })

  it('stops retrying and says so when the server refuses the token', async () => {
    const { bridge, sockets, runTimers } = setup({ isRefused: async () => true })
    const p = bridge['app.info']({})
    sockets[0]!.drop()
    await expect(p).rejects.toMatchObject({ code: 'unauthorized' })
    expect(bridge.connection).toBe('refused')
    runTimers()
    expect(sockets).toHaveLength(1)
    await expect(bridge['runs.list']({})).rejects.toMatchObject({ message: expect.stringMatching(/access token/) })
  })

  it('a failure that is not a refusal keeps retrying', async () => {
    const { bridge, sockets, runTimers } = setup({ isRefused: async () => false })
    const p = bridge['app.info']({})
    sockets[0]!.drop()
    await expect(p).rejects.toMatchObject({ code: 'io', message: expect.stringMatching(/cannot reach/i) })
    runTimers()
    expect(sockets).toHaveLength(2)
  })

  it('builds encoded file URLs under /files with the token', () => {
    expect(browserFileUrl('runs/my run/samples/step-000100.png', 'a&b')).toBe('/files/runs/my%20run/samples/step-000100.png?token=a%26b')
  })
})

describe('resolveToken', () => {
  function memoryStorage() {
    const m = new Map<string, string>()
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m }
  }
  it('takes the token from the URL and remembers it for reloads', () => {
    const storage = memoryStorage()
    expect(resolveToken('?token=abc', storage)).toBe('abc')
    expect(storage.m.get(TOKEN_STORAGE_KEY)).toBe('abc')
    expect(resolveToken('', storage)).toBe('abc')
  })
  it('prefers a new token in the URL over the remembered one', () => {
    const storage = memoryStorage()
    resolveToken('?token=old', storage)
    expect(resolveToken('?token=new', storage)).toBe('new')
  })
  it('is null when there is none', () => {
    expect(resolveToken('', memoryStorage())).toBeNull()
  })
})
