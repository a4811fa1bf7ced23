import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { ServerMessage } from '@shared/wire'
import { startServer, type RunningServer } from '../../../src/main/serve'
import { fakeSpawner } from '../services/fakes'

let base: string
let home: string
let server: RunningServer
let origin: string

beforeAll(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'gan-serve-')))
  home = join(base, 'home')
  const renderer = join(base, 'renderer')
  mkdirSync(join(renderer, 'assets'), { recursive: true })
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>GAN Studio</title><script src="./assets/app.js"></script>')
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log("app")')
  mkdirSync(join(home, 'runs', 'r1', 'samples'), { recursive: true })
  writeFileSync(join(home, 'runs', 'r1', 'samples', 'step-000010.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]))
  writeFileSync(join(base, 'secret.txt'), 'TOP-SECRET-CONTENT')
  symlinkSync(join(base, 'secret.txt'), join(home, 'escape.png'))
  server = await startServer({ home, rendererDir: renderer, spawnTrainer: fakeSpawner().spawn })
  origin = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server?.close()
  rmSync(base, { recursive: true, force: true })
})

/** A raw GET (no URL normalisation by a client library). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const t = (): string => `token=${encodeURIComponent(server.token)}`

function connect(query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
}

function nextMessage(ws: WebSocket, predicate: (m: ServerMessage) => boolean = () => true): Promise<ServerMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const message = JSON.parse(data.toString()) as ServerMessage
      if (predicate(message)) {
        ws.off('message', onMessage)
        resolve(message)
      }
    }
    ws.on('message', onMessage)
  })
}

describe('serve: the access token', () => {
  it('prints a loopback URL that carries a long random token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`)
    expect(server.token.length).toBeGreaterThanOrEqual(40)
  })

  it.each(['/', '/index.html', '/assets/app.js', '/files/runs/r1/samples/step-000010.png', '/ws', '/anything'])(
    '401 for %s with a wrong token',
    async (path) => {
      expect((await get(`${path}?token=wrong`)).status).toBe(401)
      expect((await get(`${path}?token=${server.token.slice(0, -1)}`)).status).toBe(401)
      expect((await get(path, { Authorization: 'Bearer nope' })).status).toBe(401)
    }
  )

  it.each(['/files/runs/r1/samples/step-000010.png', '/ws'])('401 for %s without a token (a cookie is no token)', async (path) => {
    expect((await get(path)).status).toBe(401)
    expect((await get(path, { Cookie: `gan-studio-token-${server.port}=${server.token}` })).status).toBe(401)
  })

  it('serves the renderer as built, and never puts the token in a cookie (cookies reach every port)', async () => {
    const page = await get(`/?${t()}`)
    expect(page.status).toBe(200)
    expect(page.body).toBe('<!doctype html><title>GAN Studio</title><script src="./assets/app.js"></script>')
    expect(page.headers['content-type']).toMatch(/text\/html/)
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    expect(page.headers['set-cookie']).toBeUndefined()
    // The page's own code loads without the token: it is the same for every install.
    const asset = await get('/assets/app.js')
    expect(asset.status).toBe(200)
    expect(asset.headers['content-type']).toMatch(/javascript/)
    expect((await get('/runs', { Authorization: `Bearer ${server.token}` })).body).toMatch(/GAN Studio/) // app route
    expect((await get(`/missing.js?${t()}`)).status).toBe(404)
  })

  it('the socket address answers 426 with the token (the page uses this to tell a refusal apart)', async () => {
    expect((await get(`/ws?${t()}`)).status).toBe(426)
  })
})

describe('serve: /files inside the home only', () => {
  it('serves a sample grid', async () => {
    const res = await get(`/files/runs/r1/samples/step-000010.png?${t()}`)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('image/png')
  })

  it.each([
    '/files/..%2fsecret.txt',
    '/files/%2e%2e%2fsecret.txt',
    '/files/runs%2f..%2f..%2fsecret.txt',
    '/files/%2fetc%2fpasswd',
    '/files/escape.png',
    '/files/..%5csecret.txt'
  ])('refuses %s', async (path) => {
    const res = await get(`${path}?${t()}`)
    expect(res.status).toBe(403)
    expect(res.body).not.toContain('TOP-SECRET-CONTENT')
  })

  it('raw ../ in the request line cannot leave the home either', async () => {
    for (const path of ['/files/../secret.txt', '/files/../../etc/passwd', '/../secret.txt']) {
      const res = await get(`${path}?${t()}`)
      expect(res.body).not.toContain('TOP-SECRET-CONTENT')
      expect(res.body).not.toContain('root:')
    }
  })
})

describe('serve: the socket', () => {
  it('refuses a missing or wrong token, and another site’s page', async () => {
    await expect(connect('')).rejects.toThrow('HTTP 401')
    await expect(connect('?token=wrong')).rejects.toThrow('HTTP 401')
    await expect(connect(`?${t()}`, { Origin: 'https://evil.example' })).rejects.toThrow('HTTP 403')
  })

  it('answers a request and pushes events', async () => {
    const ws = await connect(`?${t()}`, { Origin: origin })
    try {
      const reply = nextMessage(ws, (m) => m.type === 'reply' && m.id === 7)
      ws.send(JSON.stringify({ type: 'request', id: 7, name: 'app.info', params: {} }))
      expect(await reply).toMatchObject({ type: 'reply', id: 7, reply: { ok: true, result: { mode: 'browser', home } } })

      const bad = nextMessage(ws, (m) => m.type === 'reply' && m.id === 8)
      ws.send(JSON.stringify({ type: 'request', id: 8, name: 'runs.get', params: { id: '../../etc' } }))
      expect(await bad).toMatchObject({ reply: { ok: false, error: { code: 'invalid-params' } } })

      const list = nextMessage(ws, (m) => m.type === 'reply' && m.id === 9)
      ws.send(JSON.stringify({ type: 'request', id: 9, name: 'runs.list' }))
      // r1 has samples but no run.json: listed as damaged, with why, not dropped.
      expect(await list).toMatchObject({
        reply: { ok: true, result: [{ id: 'r1', damaged: { reason: expect.stringMatching(/run\.json is missing/) } }] }
      })

      const event = nextMessage(ws, (m) => m.type === 'event')
      server.studio.events.emit('train.log', { runId: null, level: 'info', message: 'hello', time: 'now' })
      expect(await event).toEqual({ type: 'event', name: 'train.log', payload: { runId: null, level: 'info', message: 'hello', time: 'now' } })
    } finally {
      ws.close()
    }
  })

  it('answers malformed messages with a readable error instead of dropping the socket', async () => {
    const ws = await connect('', { Authorization: `Bearer ${server.token}` })
    try {
      const notJson = nextMessage(ws)
      ws.send('{not json')
      expect(await notJson).toMatchObject({ type: 'reply', id: -1, reply: { ok: false, error: { code: 'invalid-params' } } })
      const wrongShape = nextMessage(ws)
      ws.send(JSON.stringify({ type: 'hello', id: 3 }))
      expect(await wrongShape).toMatchObject({ type: 'reply', id: 3, reply: { ok: false, error: { code: 'invalid-params' } } })
      const unknown = nextMessage(ws)
      ws.send(JSON.stringify({ type: 'request', id: 4, name: 'shell.exec', params: {} }))
      expect(await unknown).toMatchObject({ id: 4, reply: { ok: false, error: { code: 'invalid-params', message: 'Unknown request "shell.exec".' } } })
      expect(ws.readyState).toBe(WebSocket.OPEN)
    } finally {
      ws.close()
    }
  })
})
