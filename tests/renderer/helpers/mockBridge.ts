import { vi, type Mock } from 'vitest'
import {
  REQUEST_NAMES,
  type EventName,
  type Events,
  type RequestName,
  type RequestParams,
  type Results,
  type StudioBridge
} from '@shared/contract'
import { RunConfigSchema } from '@shared/config'
import type { DatasetSummary } from '@shared/datasets'
import { StudioError } from '@shared/errors'
import type { MetricRecord, RunJson, RunSummary } from '@shared/runs'

type Handler<K extends RequestName> = (params: RequestParams<K>) => Results[K] | Promise<Results[K]>
export type Handlers = { [K in RequestName]?: Handler<K> }

export interface MockBridge {
  bridge: StudioBridge
  /** Every `on:<event>` subscription and `call:<request>` in order, to check what happened first. */
  log: string[]
  calls: { [K in RequestName]: Mock }
  /** Pushes an event to the subscribed listeners, as the main side would. */
  emit<E extends EventName>(event: E, payload: Events[E]): void
  listenerCount(event: EventName): number
  handle<K extends RequestName>(name: K, handler: Handler<K>): void
}

/** A StudioBridge whose requests are vi.fn()s answering from `handlers` (unhandled ones reject). */
export function createMockBridge(handlers: Handlers = {}): MockBridge {
  const log: string[] = []
  const listeners = new Map<EventName, Set<(p: unknown) => void>>()
  const table: Handlers = { ...handlers }
  const calls = {} as { [K in RequestName]: Mock }
  const api: Record<string, unknown> = {}
  for (const name of REQUEST_NAMES) {
    const fn = vi.fn(async (params: unknown) => {
      log.push(`call:${name}`)
      const h = table[name] as ((p: unknown) => unknown) | undefined
      if (!h) throw new StudioError('internal', `no mock answer for ${name}`)
      return h(params)
    })
    calls[name] = fn
    api[name] = fn
  }
  api.on = vi.fn((event: EventName, cb: (p: unknown) => void) => {
    log.push(`on:${event}`)
    let set = listeners.get(event)
    if (!set) listeners.set(event, (set = new Set()))
    set.add(cb)
    return () => set.delete(cb)
  })
  api.fileUrl = (p: string) => `studio://home/${p}`
  return {
    bridge: api as unknown as StudioBridge,
    log,
    calls,
    emit(event, payload) {
      for (const cb of [...(listeners.get(event) ?? [])]) cb(payload)
    },
    listenerCount: (event) => listeners.get(event)?.size ?? 0,
    handle(name, handler) {
      ;(table as Record<string, unknown>)[name] = handler
    }
  }
}

/** A promise with its resolve exposed, to hold a request open while events arrive. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

export function dataset(over: Partial<DatasetSummary> = {}): DatasetSummary {
  return {
    formatVersion: 1,
    id: 'ds-1',
    name: 'Sketches',
    source: '/home/artist/sketches',
    createdAt: '2025-01-02T10:00:00.000Z',
    updatedAt: '2025-01-02T10:00:00.000Z',
    resolution: 32,
    crop: 'center',
    background: '#ffffff',
    count: 40,
    scanned: 43,
    duplicates: 1,
    skipped: [{ file: 'broken.png', reason: 'The file is cut short (truncated PNG).' }],
    stats: {
      minWidth: 100,
      maxWidth: 400,
      minHeight: 80,
      maxHeight: 400,
      medianWidth: 256,
      medianHeight: 240,
      minAspect: 0.75,
      maxAspect: 1.5,
      medianAspect: 1,
      withAlpha: 2
    },
    cacheFile: 'cache-32.bin',
    fingerprint: 'abc',
    ...over
  }
}

export function runSummary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'run-1',
    name: 'Sketches 1',
    dir: '/home/artist/GAN Studio/runs/run-1',
    status: 'running',
    step: 0,
    steps: 1000,
    createdAt: '2025-01-03T10:00:00.000Z',
    updatedAt: '2025-01-03T10:00:00.000Z',
    datasetName: 'Sketches',
    resolution: 32,
    backend: 'wasm',
    thumbnail: null,
    resumable: false,
    tags: [],
    note: '',
    error: null,
    ...over
  }
}

export function runJson(over: Partial<RunJson> = {}): RunJson {
  const config = RunConfigSchema.parse({ source: '/home/artist/sketches', steps: 1000 })
  return {
    formatVersion: 1,
    id: 'run-1',
    name: 'Sketches 1',
    createdAt: '2025-01-03T10:00:00.000Z',
    updatedAt: '2025-01-03T10:00:00.000Z',
    appVersion: '0.1.0',
    config,
    dataset: dataset(),
    backend: { requested: 'auto', used: 'wasm', passedOver: [{ name: 'tensorflow', reason: 'not installed' }] },
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
  }
}

export function metric(step: number, over: Partial<MetricRecord> = {}): MetricRecord {
  return {
    step,
    t: step * 100,
    imagesSeen: step * 32,
    gLoss: 1 + Math.sin(step / 10),
    dLoss: 0.7 + Math.cos(step / 10) / 4,
    dReal: 0.5,
    dFake: -0.5,
    imagesPerSec: 40,
    ...over
  }
}
