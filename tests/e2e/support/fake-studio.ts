/**
 * A stand-in for `gan-studio serve` with an in-memory studio and simulated training, speaking the
 * same wire protocol. The real end-to-end tests use the real server; this one drives the UI into
 * states that are slow or awkward to reach for real (100,000 chart points, a crashed run) so they
 * can be checked and screenshotted in seconds.
 */
import { createReadStream, promises as fsp } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, resolve, sep, dirname, basename } from 'node:path'
import sharp from 'sharp'
import { WebSocketServer, type WebSocket } from 'ws'
import { RunConfigSchema, type RunConfig } from '../../../src/shared/config'
import type { EventName, Events, RequestName, Results } from '../../../src/shared/contract'
import type { DatasetSummary } from '../../../src/shared/datasets'
import type { MetricRecord, RunJson, RunStatus, RunSummary, SampleSnapshot } from '../../../src/shared/runs'
import { sampleFileName } from '../../../src/shared/runs'

export interface FakeStudioOptions {
  rendererDir: string
  home: string
  token?: string
  /** Seed the library with a finished run holding this many metric points. */
  bigRunPoints?: number
  /** Seed the library with a run that crashed and can be resumed. */
  crashedRun?: boolean
  /** Milliseconds between simulated training ticks. */
  tickMs?: number
}

export interface FakeStudio {
  url: string
  token: string
  close(): Promise<void>
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json'
}
const IMAGE = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i

class Fail extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

interface LiveRun {
  json: RunJson
  metrics: MetricRecord[]
  samples: SampleSnapshot[]
  timer: ReturnType<typeof setInterval> | null
}

function lossAt(step: number, seed: number): MetricRecord {
  const noise = (k: number) => Math.sin(step * 12.9898 + k * 78.233 + seed) * 43758.5453 - Math.floor(Math.sin(step * 12.9898 + k * 78.233 + seed) * 43758.5453)
  const trend = Math.exp(-step / 3000)
  return {
    step,
    t: step * 120,
    imagesSeen: step * 32,
    gLoss: 0.9 + 1.6 * trend + (noise(1) - 0.5) * 0.6,
    dLoss: 1.35 - 0.6 * trend + (noise(2) - 0.5) * 0.35,
    dReal: 0.4 + 1.2 * (1 - trend) + (noise(3) - 0.5) * 0.5,
    dFake: -0.3 - 1.1 * (1 - trend) + (noise(4) - 0.5) * 0.5,
    imagesPerSec: 36 + (noise(5) - 0.5) * 6
  }
}

/** A colourful grid that sharpens with the step, like a GAN learning blobs into shapes. */
async function gridPng(step: number, res: number, cells: number): Promise<Buffer> {
  const side = Math.sqrt(cells)
  const px = side * res
  const data = Buffer.alloc(px * px * 3)
  const clarity = Math.min(1, step / 400)
  for (let c = 0; c < cells; c++) {
    const cx = (c % side) * res
    const cy = Math.floor(c / side) * res
    const hue = (c * 47) % 360
    for (let y = 0; y < res; y++)
      for (let x = 0; x < res; x++) {
        const dx = x / res - 0.5
        const dy = y / res - 0.5
        const r = Math.sqrt(dx * dx + dy * dy)
        const blob = r < 0.32 ? 1 : 0
        const n = Math.sin((x + c) * 1.7 + step * 0.01) * Math.cos((y - c) * 1.3) * (1 - clarity)
        const v = Math.max(0, Math.min(1, blob * clarity + 0.5 * (1 - clarity) + n * 0.5))
        const i = ((cy + y) * px + cx + x) * 3
        const h = (hue + r * 120) / 60
        const k = (n2: number) => {
          const kk = (n2 + h) % 6
          return v - v * 0.7 * Math.max(0, Math.min(kk, 4 - kk, 1))
        }
        data[i] = Math.round(255 * (0.15 + 0.85 * k(5)))
        data[i + 1] = Math.round(255 * (0.15 + 0.85 * k(3)))
        data[i + 2] = Math.round(255 * (0.15 + 0.85 * k(1)))
      }
  }
  return sharp(data, { raw: { width: px, height: px, channels: 3 } }).png().toBuffer()
}

export async function startFakeStudio(opts: FakeStudioOptions): Promise<FakeStudio> {
  const token = opts.token ?? 'fake-token-123'
  const tickMs = opts.tickMs ?? 150
  const datasets: (DatasetSummary & { files: string[] })[] = []
  const runs = new Map<string, LiveRun>()
  const sockets = new Set<WebSocket>()
  let counter = 0

  function emit<E extends EventName>(name: E, payload: Events[E]): void {
    const text = JSON.stringify({ type: 'event', name, payload })
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text)
  }

  function summary(r: LiveRun): RunSummary {
    const j = r.json
    return {
      id: j.id,
      name: j.name,
      dir: join(opts.home, 'runs', j.id),
      status: j.status,
      step: j.step,
      steps: j.config.steps,
      createdAt: j.createdAt,
      updatedAt: j.updatedAt,
      datasetName: j.dataset.name,
      resolution: j.config.preprocess.resolution,
      backend: j.backend?.used ?? null,
      thumbnail: r.samples.at(-1)?.file ?? null,
      resumable: j.status !== 'completed' && j.status !== 'running' && j.latestCheckpoint !== null,
      tags: j.tags,
      note: j.note,
      error: j.error
    }
  }

  async function saveSample(r: LiveRun): Promise<SampleSnapshot> {
    const file = sampleFileName(r.json.step)
    const abs = join(opts.home, 'runs', r.json.id, file)
    await fsp.mkdir(dirname(abs), { recursive: true })
    await fsp.writeFile(abs, await gridPng(r.json.step, r.json.config.preprocess.resolution, r.json.config.gridSize))
    const s = { runId: r.json.id, step: r.json.step, file }
    r.samples.push(s)
    return s
  }

  function setStatus(r: LiveRun, status: RunStatus, error: RunJson['error'] = null): void {
    r.json.status = status
    r.json.error = error
    r.json.updatedAt = new Date().toISOString()
    emit('train.status', { runId: r.json.id, status, error })
  }

  function startTicking(r: LiveRun): void {
    if (r.timer) return
    let busy = false
    r.timer = setInterval(async () => {
      if (busy || r.json.status !== 'running') return
      busy = true
      try {
        const c = r.json.config
        const next = Math.min(c.steps, r.json.step + c.logEvery)
        r.json.step = next
        r.json.latestCheckpoint = `step-${String(next).padStart(6, '0')}`
        r.json.latestCheckpointStep = next
        const m = lossAt(next, 1)
        r.metrics.push(m)
        emit('train.progress', {
          runId: r.json.id,
          step: next,
          steps: c.steps,
          imagesPerSec: m.imagesPerSec,
          etaMs: ((c.steps - next) / c.logEvery) * tickMs,
          metric: m
        })
        if (next % c.sampleEvery === 0 || next === c.steps) emit('train.sample', await saveSample(r))
        if (next >= c.steps) {
          clearInterval(r.timer!)
          r.timer = null
          setStatus(r, 'completed')
        }
      } finally {
        busy = false
      }
    }, tickMs)
  }

  function makeRun(config: RunConfig, over: Partial<RunJson> = {}): LiveRun {
    const ds = datasets.find((d) => d.source === config.source)
    if (!ds) throw new Fail('not-found', `No dataset has been imported from ${config.source}. Import the folder first.`)
    counter++
    const id = `run-${String(counter).padStart(3, '0')}`
    const now = new Date().toISOString()
    const r: LiveRun = {
      json: {
        formatVersion: 1,
        id,
        name: config.name ?? `${ds.name} ${counter}`,
        createdAt: now,
        updatedAt: now,
        appVersion: '0.1.0',
        config,
        dataset: ds,
        backend: {
          requested: config.backend,
          used: config.backend === 'auto' ? 'wasm' : config.backend,
          passedOver: [
            { name: 'tensorflow', reason: '@tensorflow/tfjs-node-gpu is not installed (it needs a download at install time).' },
            { name: 'webgpu', reason: 'No GPU adapter was found.' }
          ]
        },
        status: 'running',
        step: 0,
        imagesSeen: 0,
        trainingMs: 0,
        latestCheckpoint: null,
        latestCheckpointStep: 0,
        error: null,
        tags: [],
        note: '',
        ...over
      },
      metrics: [],
      samples: [],
      timer: null
    }
    runs.set(id, r)
    return r
  }

  function getRun(id: string): LiveRun {
    const r = runs.get(id)
    if (!r) throw new Fail('not-found', `There is no run called “${id}”.`)
    return r
  }

  async function readImages(source: string): Promise<string[]> {
    const out: string[] = []
    async function walk(dir: string): Promise<void> {
      for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
        if (e.name.startsWith('.')) continue
        const p = join(dir, e.name)
        if (e.isDirectory()) await walk(p)
        else if (IMAGE.test(e.name)) out.push(p)
      }
    }
    await walk(source)
    return out.sort()
  }

  async function prepared(file: string, res: number, crop: string, bg: string): Promise<string> {
    const fit = crop === 'pad' ? 'contain' : crop === 'stretch' ? 'fill' : 'cover'
    const buf = await sharp(file).flatten({ background: bg }).resize(res, res, { fit, background: bg }).png().toBuffer()
    return `data:image/png;base64,${buf.toString('base64')}`
  }

  const handlers: { [K in RequestName]?: (p: never) => Promise<Results[K]> | Results[K] } = {
    'app.info': () => ({ version: '0.1.0', home: opts.home, mode: 'browser', platform: process.platform }),
    'fs.listDir': async (p: { path?: string }) => {
      const path = resolve(p.path ?? opts.home)
      let entries
      try {
        entries = await fsp.readdir(path, { withFileTypes: true })
      } catch {
        throw new Fail('not-found', `There is no folder at ${path}.`)
      }
      return {
        path,
        parent: dirname(path) === path ? null : dirname(path),
        entries: entries
          .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
          .map((e) => ({ name: e.name, path: join(path, e.name), isDir: true }))
          .sort((a, b) => a.name.localeCompare(b.name)),
        imageCount: entries.filter((e) => e.isFile() && IMAGE.test(e.name)).length
      }
    },
    'dialog.pickFolder': () => ({ path: null }),
    'datasets.list': () => datasets.map(({ files: _f, ...d }) => d),
    'datasets.preview': async (p: { source: string; preprocess: { resolution: number; crop: string; background: string }; limit?: number }) => {
      const files = await readImages(p.source).catch(() => {
        throw new Fail('not-found', `There is no folder at ${p.source}.`)
      })
      const some = files.slice(0, p.limit ?? 12)
      return {
        found: files.length,
        images: await Promise.all(some.map((f) => prepared(f, p.preprocess.resolution, p.preprocess.crop, p.preprocess.background)))
      }
    },
    'datasets.import': async (p: { source: string; preprocess: { resolution: 32 | 64 | 128 | 256; crop: 'center' | 'pad' | 'stretch'; background: string } }) => {
      const files = await readImages(p.source).catch(() => {
        throw new Fail('not-found', `There is no folder at ${p.source}.`)
      })
      if (!files.length) throw new Fail('no-images', `There are no images in ${p.source}.`)
      emit('datasets.progress', { source: p.source, phase: 'scan', done: files.length, total: files.length })
      for (let i = 0; i < files.length; i++) {
        await new Promise((r) => setTimeout(r, 40))
        emit('datasets.progress', { source: p.source, phase: 'decode', done: i + 1, total: files.length })
      }
      const now = new Date().toISOString()
      const ds = {
        formatVersion: 1 as const,
        id: `ds-${datasets.length + 1}`,
        name: basename(p.source),
        source: p.source,
        createdAt: now,
        updatedAt: now,
        resolution: p.preprocess.resolution,
        crop: p.preprocess.crop,
        background: p.preprocess.background,
        count: files.length - 1,
        scanned: files.length + 1,
        duplicates: 1,
        duplicateFiles: [{ file: relative(p.source, files[files.length - 1]!), sameAs: relative(p.source, files[0]!) }],
        skipped: [{ file: 'notes.png', reason: 'Not an image: the file does not start with a PNG signature.' }],
        stats: {
          minWidth: 40,
          maxWidth: 300,
          minHeight: 30,
          maxHeight: 300,
          medianWidth: 120,
          medianHeight: 100,
          minAspect: 0.75,
          maxAspect: 2,
          medianAspect: 1.2,
          withAlpha: 1
        },
        cacheFile: `cache-${p.preprocess.resolution}.bin`,
        fingerprint: 'fake',
        files: files.slice(0, -1)
      }
      datasets.unshift(ds)
      const { files: _f, ...out } = ds
      return out
    },
    'datasets.images': async (p: { id: string; offset?: number; limit?: number }) => {
      const ds = datasets.find((d) => d.id === p.id)
      if (!ds) throw new Fail('not-found', 'No such dataset.')
      const slice = ds.files.slice(p.offset ?? 0, (p.offset ?? 0) + (p.limit ?? 64))
      return { total: ds.files.length, images: await Promise.all(slice.map((f) => prepared(f, ds.resolution, ds.crop, ds.background))) }
    },
    'datasets.delete': (p: { id: string }) => {
      const i = datasets.findIndex((d) => d.id === p.id)
      if (i >= 0) datasets.splice(i, 1)
      return { ok: true as const }
    },
    'backends.list': () => [
      { name: 'tensorflow', available: false, reason: '@tensorflow/tfjs-node-gpu is not installed (it needs a download at install time).', imagesPerSec: null },
      { name: 'webgpu', available: false, reason: 'No GPU adapter was found on this machine.', imagesPerSec: null },
      { name: 'wasm', available: true, reason: null, imagesPerSec: 38 },
      { name: 'cpu', available: true, reason: null, imagesPerSec: 0.3 }
    ],
    'runs.estimate': (p: { config: unknown }) => {
      const c = RunConfigSchema.parse(p.config)
      const perStep = (c.batchSize / 38) * (c.preprocess.resolution / 32) ** 2 * 1000
      return { msPer1000Steps: Math.round(perStep * 1000), backend: 'wasm' as const }
    },
    'runs.list': () => [...runs.values()].map(summary),
    'runs.get': (p: { id: string }) => {
      const r = getRun(p.id)
      return { run: r.json, summary: summary(r), samples: r.samples }
    },
    'runs.metrics': (p: { id: string; sinceStep?: number }) => getRun(p.id).metrics.filter((m) => m.step > (p.sinceStep ?? -1)),
    'runs.samples': (p: { id: string }) => getRun(p.id).samples,
    'runs.start': (p: { config: unknown }) => {
      for (const r of runs.values()) if (r.json.status === 'running') throw new Fail('busy', `“${r.json.name}” is still training. Pause or stop it first.`)
      const r = makeRun(RunConfigSchema.parse(p.config))
      setTimeout(() => {
        emit('train.log', { runId: r.json.id, level: 'info', message: 'Using wasm: 2 threads, XNNPACK.', time: new Date().toISOString() })
        startTicking(r)
      }, 100)
      return summary(r)
    },
    'runs.pause': (p: { id: string }) => {
      const r = getRun(p.id)
      if (r.json.status !== 'running') throw new Fail('bad-input', 'Only a running run can be paused.')
      setTimeout(() => setStatus(r, 'paused'), tickMs * 2)
      return summary(r)
    },
    'runs.resume': (p: { id: string }) => {
      const r = getRun(p.id)
      for (const o of runs.values()) if (o !== r && o.json.status === 'running') throw new Fail('busy', `“${o.json.name}” is still training.`)
      setStatus(r, 'running')
      startTicking(r)
      return summary(r)
    },
    'runs.stop': (p: { id: string }) => {
      const r = getRun(p.id)
      setTimeout(() => {
        if (r.timer) clearInterval(r.timer)
        r.timer = null
        setStatus(r, 'stopped')
      }, tickMs * 2)
      return summary(r)
    },
    'runs.rename': (p: { id: string; name: string }) => {
      const r = getRun(p.id)
      r.json.name = p.name.trim()
      return summary(r)
    },
    'runs.update': (p: { id: string }) => summary(getRun(p.id)),
    'runs.delete': (p: { id: string }) => {
      const r = getRun(p.id)
      if (r.json.status === 'running') throw new Fail('busy', 'Stop the run before deleting it.')
      runs.delete(p.id)
      return { ok: true as const }
    },
    'runs.openFolder': (p: { id: string }) => ({ path: join(opts.home, 'runs', p.id) })
  }

  function relative(base: string, file: string): string {
    return file.slice(base.length + 1)
  }

  // Seed data.
  if (opts.bigRunPoints || opts.crashedRun) {
    const seedDir = join(opts.home, 'seed-images')
    datasets.push({
      formatVersion: 1,
      id: 'ds-seed',
      name: 'Moths',
      source: seedDir,
      createdAt: '2025-03-01T20:00:00.000Z',
      updatedAt: '2025-03-01T20:00:00.000Z',
      resolution: 64,
      crop: 'center',
      background: '#ffffff',
      count: 1840,
      scanned: 1852,
      duplicates: 4,
      skipped: [],
      stats: { minWidth: 300, maxWidth: 2400, minHeight: 280, maxHeight: 2000, medianWidth: 1024, medianHeight: 900, minAspect: 0.7, maxAspect: 1.6, medianAspect: 1.1, withAlpha: 0 },
      cacheFile: 'cache-64.bin',
      fingerprint: 'seed',
      files: []
    })
  }
  if (opts.bigRunPoints) {
    const n = opts.bigRunPoints
    const config = RunConfigSchema.parse({ source: join(opts.home, 'seed-images'), steps: n * 10, logEvery: 10, sampleEvery: Math.max(10, Math.round((n * 10) / 24)), preprocess: { resolution: 64 } })
    const r = makeRun(config, { name: 'Moths — long night', status: 'completed', createdAt: '2025-03-02T21:00:00.000Z' })
    for (let i = 1; i <= n; i++) r.metrics.push(lossAt(i * 10, 7))
    r.json.step = n * 10
    r.json.latestCheckpoint = 'step-final'
    for (let k = 1; k <= 24; k++) {
      r.json.step = k * config.sampleEvery
      await saveSample(r)
    }
    r.json.step = n * 10
    r.json.trainingMs = n * 10 * 120
  }
  if (opts.crashedRun) {
    const config = RunConfigSchema.parse({ source: join(opts.home, 'seed-images'), steps: 4000, logEvery: 10, sampleEvery: 200, preprocess: { resolution: 64 } })
    const r = makeRun(config, { name: 'Moths — big model', createdAt: '2025-03-03T22:00:00.000Z' })
    for (let s = 10; s <= 1370; s += 10) r.metrics.push(lossAt(s, 3))
    for (let s = 200; s <= 1200; s += 200) {
      r.json.step = s
      await saveSample(r)
    }
    r.json.step = 1370
    r.json.status = 'failed'
    r.json.latestCheckpoint = 'step-001000'
    r.json.latestCheckpointStep = 1000
    r.json.error = { code: 'crashed', message: 'The trainer process ran out of memory at step 1,370. Try a smaller batch size.' }
  }

  const authed = (req: IncomingMessage): boolean => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.searchParams.get('token') === token) return true
    return (req.headers.cookie ?? '').split(/;\s*/).includes(`fake-studio=${token}`)
  }

  const server = createServer((req, res) => void serveHttp(req, res))
  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authed(req)) {
      res.writeHead(401, { 'Content-Type': 'text/plain' }).end('GAN Studio needs its access token.\n')
      return
    }
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.searchParams.get('token') === token) res.setHeader('Set-Cookie', `fake-studio=${token}; Path=/; HttpOnly; SameSite=Strict`)
    let base = opts.rendererDir
    let rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1))
    if (url.pathname === '/ws') {
      res.writeHead(426).end('websocket here\n')
      return
    }
    if (url.pathname.startsWith('/files/')) {
      base = opts.home
      rel = decodeURIComponent(url.pathname.slice('/files/'.length))
    }
    const file = resolve(base, rel)
    if (!file.startsWith(resolve(base) + sep)) {
      res.writeHead(403).end()
      return
    }
    try {
      await fsp.access(file)
    } catch {
      res.writeHead(404).end('not found\n')
      return
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' })
    createReadStream(file).pipe(res)
  }

  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    if (!authed(req)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      socket.destroy()
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      ws.on('message', async (data) => {
        const msg = JSON.parse(String(data)) as { id: number; name: RequestName; params: never }
        try {
          const h = handlers[msg.name]
          if (!h) throw new Fail('internal', `The fake studio does not answer ${msg.name}.`)
          const result = await h(msg.params)
          ws.send(JSON.stringify({ type: 'reply', id: msg.id, reply: { ok: true, result } }))
        } catch (err) {
          const e = err instanceof Fail ? { code: err.code, message: err.message } : { code: 'internal', message: String((err as Error).message ?? err) }
          ws.send(JSON.stringify({ type: 'reply', id: msg.id, reply: { ok: false, error: e } }))
        }
      })
    })
  })

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    async close() {
      for (const r of runs.values()) if (r.timer) clearInterval(r.timer)
      for (const ws of sockets) ws.terminate()
      wss.close()
      await new Promise<void>((r) => {
        server.close(() => r())
        server.closeAllConnections()
      })
    }
  }
}
