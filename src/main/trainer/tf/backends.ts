import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import * as tf from '@tensorflow/tfjs'
import { BACKEND_NAMES, type BackendName, type BackendRequest } from '@shared/config'
import type { BackendStatus } from '@shared/contract'
import { StudioError } from '@shared/errors'
import type { BackendRecord, PassedOver } from '@shared/runs'
import { writeJsonAtomic } from '../../util/fs'
import { calibrate, smokeTest } from './calibrate'
import { loadTensorflowBackend, tfjsNodeGpuVersion } from './tensorflow'
import { nativeStatus } from './native'
import { describeWasm, prepareWasm } from './wasm'
import { registerWebgpuBackend, webgpuAdapter } from './webgpu'

/**
 * Choosing and activating the tfjs compute backend.
 *
 * `auto` measures each working backend on a short DCGAN-shaped workload (calibrate.ts) and keeps
 * the fastest; the measurement is cached per machine and package versions, so later starts skip
 * it. `cpu` (pure JS, far slower) is only ever chosen by `auto` when the caller allows it
 * (tiny tests). An explicit request that cannot be honoured is an error, never a fallback.
 */

export interface BackendOptions {
  /** JSON file for the calibration cache (e.g. `<home>/cache/backends.json`); no caching without it. */
  cacheFile?: string
  /** Let `auto` use `cpu` when nothing faster works (tests on tiny models only). */
  allowCpu?: boolean
  /** Progress lines for the user ("Measuring wasm…"). */
  log?: (msg: string) => void
  /** Measure again even when the cache has an answer. */
  recalibrate?: boolean
  /** Timed part of each backend's calibration, in ms (default 1500). */
  calibrationMs?: number
  /** Backends `auto` may consider (default: all). The others are passed over as "excluded". */
  candidates?: readonly BackendName[]
  /** XNNPACK threads for wasm (default: every core). Fixed once wasm has started in this process. */
  wasmThreads?: number
}

/** Order tried by `auto` (and listed by probeBackends). */
const ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu']

const CALIBRATION_VERSION = 2
const QUICK_BATCH = 4
const QUICK_MS = 200

interface BackendProbe {
  available: boolean
  /** Why it is not available (or, for cpu, why auto does not use it). */
  reason: string | null
  imagesPerSec: number | null
}

interface CacheEntry {
  key: Record<string, string>
  measuredAt: string
  results: Partial<Record<BackendName, BackendProbe>>
}

type CacheFile = { version: 1; entries: Record<string, CacheEntry> }

const requireHere = createRequire(import.meta.url)

function packageVersion(name: string): string {
  try {
    return (requireHere(`${name}/package.json`) as { version: string }).version
  } catch {
    return 'absent'
  }
}

/** What the measurement depends on: this machine, the runtime and the backend packages. */
export function calibrationKey(): Record<string, string> {
  const cpus = os.cpus()
  return {
    calibration: String(CALIBRATION_VERSION),
    host: os.hostname(),
    cpu: `${cpus[0]?.model ?? 'unknown'} ×${cpus.length}`,
    memory: String(Math.round(os.totalmem() / 2 ** 30)) + ' GiB',
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node,
    electron: process.versions.electron ?? 'none',
    tfjs: packageVersion('@tensorflow/tfjs'),
    wasm: packageVersion('@tensorflow/tfjs-backend-wasm'),
    // The native kernels change wasm's speed several-fold: measure again when they come or go.
    native: nativeStatus().isa ?? 'off',
    webgpu: `${packageVersion('@tensorflow/tfjs-backend-webgpu')}/dawn ${packageVersion('webgpu')}`,
    tensorflow: tfjsNodeGpuVersion() ?? 'absent'
  }
}

function hashKey(key: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16)
}

async function readCache(file: string | undefined): Promise<CacheFile> {
  if (!file) return { version: 1, entries: {} }
  try {
    const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as CacheFile
    if (parsed?.version === 1 && typeof parsed.entries === 'object' && parsed.entries) return parsed
  } catch {
    // Missing or unreadable: measure again and rewrite it.
  }
  return { version: 1, entries: {} }
}

async function writeCache(file: string | undefined, entry: CacheEntry): Promise<void> {
  if (!file) return
  const cache = await readCache(file)
  cache.entries[hashKey(entry.key)] = entry
  // Keep the file small: the newest few machines/versions.
  const newest = Object.entries(cache.entries)
    .sort((a, b) => b[1].measuredAt.localeCompare(a[1].measuredAt))
    .slice(0, 8)
  await writeJsonAtomic(file, { version: 1, entries: Object.fromEntries(newest) } satisfies CacheFile)
}

async function cachedResults(file: string | undefined): Promise<CacheEntry | null> {
  const cache = await readCache(file)
  const key = JSON.stringify(calibrationKey())
  return Object.values(cache.entries).find((e) => JSON.stringify(e?.key) === key) ?? null
}

function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : typeof err === 'object' && err && 'message' in err ? String(err.message) : String(err)
  return (msg.split('\n').find((l) => l.trim() !== '') ?? msg).trim()
}

/** The tfjs cpu backend greets Node users with an advert for tfjs-node on first use; not ours. */
function quietCpuGreeting(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false
}

/** Makes the backend loadable (registers it with tfjs). Throws with the reason it is not. */
async function register(name: BackendName, opts: BackendOptions): Promise<void> {
  switch (name) {
    case 'tensorflow':
      return loadTensorflowBackend()
    case 'webgpu':
      await registerWebgpuBackend()
      return
    case 'wasm':
      return prepareWasm({ threads: opts.wasmThreads })
    case 'cpu':
      return
  }
}

/**
 * tf.setBackend reports a failed initialisation only as `false` plus console warnings; this turns
 * it into an exception carrying the underlying error.
 */
async function switchTo(name: BackendName): Promise<void> {
  const warnings: string[] = []
  const warn = console.warn
  console.warn = (...args: unknown[]) => warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '))
  let ok = false
  try {
    ok = await tf.setBackend(name)
  } catch (err) {
    warnings.push(errorText(err))
  } finally {
    console.warn = warn
  }
  if (!ok) {
    const why = warnings.filter((w) => !/^Initialization of backend/.test(w)).map((w) => w.split('\n')[0])
    throw new Error(why[0] ?? 'it failed to initialise')
  }
  await tf.ready()
  if (name === 'cpu') quietCpuGreeting()
}

/** Register, activate and smoke-test one backend. Throws the reason it cannot be used. */
async function bringUp(name: BackendName, opts: BackendOptions = {}): Promise<void> {
  await register(name, opts)
  await switchTo(name)
  await smokeTest()
}

function describe(name: BackendName): string {
  if (name === 'webgpu') {
    const a = webgpuAdapter()
    return a ? `webgpu on ${a.name}${a.software ? ', software' : ''}` : 'webgpu'
  }
  if (name === 'wasm') return describeWasm()
  return name
}

/** One line about the active backend, e.g. "wasm (SIMD, 2 threads)". */
export function describeActiveBackend(): string {
  const name = tf.getBackend() as BackendName
  return describe(name)
}

function round(n: number): number {
  return n >= 10 ? Math.round(n) : Math.round(n * 10) / 10
}

const CPU_REASON = 'cpu: pure JavaScript, far too slow for real training (used only for tiny tests)'

/**
 * Measures every backend; returns results in ORDER. Leaves an arbitrary backend active.
 * Two stages keep it short where a backend is hopeless (software WebGPU takes ~15 s for one
 * batch-32 iteration): a quick batch-8 pass for all, then the batch-32 measurement only for those
 * within half the best quick figure. The others keep their quick figure.
 */
async function measureAll(opts: BackendOptions): Promise<Record<BackendName, BackendProbe>> {
  const results = {} as Record<BackendName, BackendProbe>
  const quick = new Map<BackendName, number>()
  for (const name of ORDER) {
    if (opts.candidates && !opts.candidates.includes(name)) {
      results[name] = { available: false, reason: `${name}: excluded by the caller`, imagesPerSec: null }
      continue
    }
    if (name === 'cpu') {
      // Never timed: a DCGAN step on cpu takes minutes. It is available, just not for auto.
      results.cpu = { available: true, reason: CPU_REASON, imagesPerSec: null }
      continue
    }
    try {
      opts.log?.(`Measuring the ${name} backend…`)
      await bringUp(name, opts)
      const { imagesPerSec } = await calibrate(QUICK_MS, QUICK_BATCH)
      quick.set(name, imagesPerSec)
      results[name] = { available: true, reason: null, imagesPerSec }
    } catch (err) {
      results[name] = { available: false, reason: `${name}: ${errorText(err)}`, imagesPerSec: null }
      opts.log?.(`  ${results[name].reason}`)
    }
  }
  const bestQuick = Math.max(0, ...quick.values())
  for (const [name, q] of quick) {
    if (q >= bestQuick / 2) {
      try {
        await bringUp(name, opts)
        results[name] = { available: true, reason: null, imagesPerSec: (await calibrate(opts.calibrationMs)).imagesPerSec }
      } catch (err) {
        results[name] = { available: false, reason: `${name}: ${errorText(err)}`, imagesPerSec: null }
      }
    }
    const r = results[name]
    opts.log?.(r.available ? `  ${describe(name)}: ${round(r.imagesPerSec!)} img/s` : `  ${r.reason}`)
  }
  return results
}

function rank(results: Record<BackendName, BackendProbe>, allowCpu: boolean): BackendName[] {
  const measured = ORDER.filter((n) => n !== 'cpu' && results[n]?.available && results[n].imagesPerSec != null).sort(
    (a, b) => results[b].imagesPerSec! - results[a].imagesPerSec!
  )
  return allowCpu ? [...measured, 'cpu'] : measured
}

function passedOverFor(used: BackendName, results: Record<BackendName, BackendProbe>): PassedOver[] {
  const best = results[used]?.imagesPerSec
  return BACKEND_NAMES.filter((n) => n !== used).map((name) => {
    const r = results[name]
    if (!r) return { name, reason: `${name}: not tried` }
    if (!r.available) return { name, reason: r.reason ?? `${name}: unavailable` }
    if (name === 'cpu') return { name, reason: CPU_REASON }
    if (r.imagesPerSec != null && best != null)
      return { name, reason: `${name}: slower here (${round(r.imagesPerSec)} img/s vs ${round(best)} img/s)` }
    return { name, reason: `${name}: ${r.reason ?? 'not chosen'}` }
  })
}

/**
 * Sets up and activates the tfjs backend for training. Resolves to what ran and why each other
 * backend did not; throws StudioError('backend-unavailable') with a sentence a person can act on.
 */
export async function initBackend(request: BackendRequest, opts: BackendOptions = {}): Promise<BackendRecord> {
  if (request !== 'auto') {
    try {
      await bringUp(request, opts)
    } catch (err) {
      throw new StudioError('backend-unavailable', `${request}: ${errorText(err)}`)
    }
    opts.log?.(`Backend: ${describe(request)}`)
    return {
      requested: request,
      used: request,
      passedOver: BACKEND_NAMES.filter((n) => n !== request).map((name) => ({ name, reason: `${name}: not requested (${request} was)` }))
    }
  }

  const allowCpu = opts.allowCpu ?? false
  const cached = opts.recalibrate ? null : await cachedResults(opts.cacheFile)
  if (cached) {
    const results = { ...cached.results } as Record<BackendName, BackendProbe>
    for (const name of BACKEND_NAMES)
      if (opts.candidates && !opts.candidates.includes(name))
        results[name] = { available: false, reason: `${name}: excluded by the caller`, imagesPerSec: null }
    for (const name of rank(results, allowCpu)) {
      try {
        await bringUp(name, opts)
        opts.log?.(`Backend: ${describe(name)} (measured ${cached.measuredAt.slice(0, 10)})`)
        return { requested: 'auto', used: name, passedOver: passedOverFor(name, results) }
      } catch {
        break // the machine changed under the cache: measure again
      }
    }
  }

  const results = await measureAll(opts)
  if (!opts.candidates) await writeCache(opts.cacheFile, { key: calibrationKey(), measuredAt: new Date().toISOString(), results }).catch((err: unknown) =>
    opts.log?.(`Could not save the backend calibration (${errorText(err)}); it will run again next time.`)
  )
  const order = rank(results, allowCpu)
  for (const name of order) {
    try {
      if (tf.getBackend() !== name) await bringUp(name, opts)
      opts.log?.(`Backend: ${describe(name)}`)
      return { requested: 'auto', used: name, passedOver: passedOverFor(name, results) }
    } catch (err) {
      results[name] = { available: false, reason: `${name}: ${errorText(err)}`, imagesPerSec: null }
    }
  }
  const reasons = ORDER.filter((n) => n !== 'cpu' && (!opts.candidates || opts.candidates.includes(n)))
    .map((n) => results[n]?.reason)
    .filter(Boolean)
    .join('; ')
  throw new StudioError(
    'backend-unavailable',
    reasons
      ? `No compute backend fast enough for training works on this machine (${reasons}). The cpu backend is only for tiny tests.`
      : 'No compute backend fast enough for training was allowed. The cpu backend is only for tiny tests.'
  )
}

/**
 * Availability of each backend with reasons, for the studio's backend picker. Brings each one up
 * briefly (no calibration; speeds come from the cache when known) and then restores the backend
 * that was active before.
 */
export async function probeBackends(opts: Pick<BackendOptions, 'cacheFile'> = {}): Promise<BackendStatus[]> {
  const previous = tf.engine().backendName as string | null
  const cached = await cachedResults(opts.cacheFile)
  const statuses: BackendStatus[] = []
  for (const name of ORDER) {
    const imagesPerSec = cached?.results[name]?.imagesPerSec ?? null
    try {
      await bringUp(name, opts)
      statuses.push({ name, available: true, reason: null, imagesPerSec })
    } catch (err) {
      statuses.push({ name, available: false, reason: `${name}: ${errorText(err)}`, imagesPerSec: null })
    }
  }
  if (previous && previous !== tf.getBackend()) await tf.setBackend(previous)
  return statuses
}
