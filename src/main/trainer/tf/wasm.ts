import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join, sep } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { describeNative } from './native'
import { registerWasmGradientKernels } from './wasm-kernels'

/**
 * `@tensorflow/tfjs-backend-wasm` for Node and the Electron utility process.
 *
 * - Binaries are loaded from node_modules (from source under vitest and from the built
 *   `out/main/*.js`, which keep node_modules external).
 * - The gradient kernels it lacks are registered, and its slow Conv2DBackpropInput replaced
 *   (wasm-kernels.ts).
 * - Threads: tfjs disables its threaded SIMD build under Node (its pthread workers are Blob URLs,
 *   which Node's worker_threads cannot load). We start that build ourselves: the worker script is
 *   written once to a file under the OS temp folder, and the main script is the package's own
 *   wasm-out file. XNNPACK then runs convolutions on a pthreadpool of worker threads sharing the
 *   wasm memory. The C++ side caps the pool at "logical cores / 2" (it assumes hyper-threading),
 *   which on a 2-core machine means one thread; we report the cores to it doubled while it starts,
 *   so the cap becomes the number of cores. If anything in this path fails, the standard
 *   single-threaded SIMD build is used and the reason is kept (describeWasm).
 */

const requireHere = createRequire(import.meta.url)
const WASM_PRIORITY = 2
/** The threaded build pre-spawns 8 workers; XNNPACK can use at most that many threads. */
const MAX_THREADS = 8

function packageDir(): string {
  return dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'))
}

/** Folder that holds `tfjs-backend-wasm*.wasm`, with a trailing separator. */
export function wasmBinaryDir(): string {
  return join(packageDir(), 'dist') + sep
}

/** Cores this process may use (cgroup/affinity aware where Node knows). */
export function availableCores(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length)
}

export interface WasmOptions {
  /** XNNPACK threads; default and maximum: every available core (at most 8). 1 uses the single-threaded build. */
  threads?: number
}

interface WasmState {
  threads: number
  /** Why the threaded build is not in use, when it is not. */
  singleThreadReason: string | null
}

const state: WasmState = { threads: 1, singleThreadReason: null }
let prepared: Promise<void> | null = null

type EmscriptenModule = {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number
  tfjs?: unknown
  PThread?: { runningWorkers?: { unref?: () => void }[] }
}
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>

/** Writes the pthread worker script once per content (safe with concurrent processes). */
function workerScript(outDir: string): string {
  const { wasmWorkerContents } = requireHere(join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string }
  // As tfjs does before making its Blob: the template literal turned "\n" escapes into newlines.
  // `module` shim: the main script ends with `module.exports.… =`, evaluated at the worker's global scope.
  const text = 'global.module = global.module || { exports: {} };\n' + wasmWorkerContents.replace(/\n/g, '\\n')
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16)
  const dir = join(os.tmpdir(), 'gan-studio-wasm')
  const file = join(dir, `pthread-worker-${hash}.cjs`)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, text)
    renameSync(tmp, file)
  }
  return file
}

/** Instantiates the threaded SIMD build with `threads` XNNPACK threads. */
async function threadedModule(threads: number): Promise<EmscriptenModule> {
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('SharedArrayBuffer is not available in this runtime')
  const outDir = join(packageDir(), 'wasm-out')
  const mainScript = join(outDir, 'tfjs-backend-wasm-threaded-simd.js')
  const worker = workerScript(outDir)
  const factory = requireHere(mainScript) as Factory
  const osModule = requireHere('node:os') as typeof os
  const realCpus = osModule.cpus
  // See the file comment: the C++ caps threads at emscripten_num_logical_cores() / 2.
  const cores = Math.max(threads * 2, 2)
  osModule.cpus = () => {
    const list = realCpus()
    return Array.from({ length: cores }, (_, i) => list[i % list.length]!)
  }
  let abort: string | null = null
  try {
    const module = await factory({
      locateFile: (path: string, prefix: string) =>
        path.endsWith('.worker.js') ? worker : path.endsWith('.wasm') ? join(outDir, 'tfjs-backend-wasm-threaded-simd.wasm') : prefix + path,
      mainScriptUrlOrBlob: mainScript,
      onAbort: (what: unknown) => {
        abort = String(what)
      },
      print: () => {},
      printErr: () => {}
    })
    if (abort) throw new Error(abort)
    return module
  } finally {
    osModule.cpus = realCpus
  }
}

function wrapTfjsApi(module: EmscriptenModule): EmscriptenModule {
  // The same C entry points tfjs' own init() wraps.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, [])
  }
  return module
}

/**
 * Emscripten's Node glue installs process-wide `uncaughtException` / `unhandledRejection`
 * handlers that rethrow, which turns any later error anywhere in the process into a dump of
 * minified wasm glue. Runs `init` and removes whatever handlers it added.
 */
async function withoutEmscriptenHandlers<T>(init: () => Promise<T>): Promise<T> {
  const events = ['uncaughtException', 'unhandledRejection'] as const
  type Listener = (...args: unknown[]) => void
  const listeners = (e: (typeof events)[number]) => process.listeners(e as 'uncaughtException') as Listener[]
  const before = events.map((e) => new Set(listeners(e)))
  try {
    return await init()
  } finally {
    events.forEach((e, i) => {
      for (const l of listeners(e)) if (!before[i]!.has(l)) process.removeListener(e as 'uncaughtException', l)
    })
  }
}

function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  return msg.split('\n')[0] ?? msg
}

/**
 * Idempotent. Must run before the first `tf.setBackend('wasm')`. The thread count is fixed by the
 * first call that initialises the backend.
 */
export function prepareWasm(opts: WasmOptions = {}): Promise<void> {
  prepared ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    wasm.setWasmPaths(wasmBinaryDir())
    registerWasmGradientKernels()
    await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') // evaluated here: our threaded path bypasses tfjs' init
    // More threads than cores only makes them wait on each other.
    const wanted = Math.min(MAX_THREADS, availableCores(), Math.max(1, Math.floor(opts.threads ?? availableCores())))
    const standard = tf.findBackendFactory('wasm')
    tf.removeBackend('wasm')
    if (wanted === 1 || !standard) {
      state.singleThreadReason = opts.threads === 1 ? 'one thread requested' : 'this machine has one core'
      // The package's own single-threaded SIMD build, minus emscripten's process-wide handlers.
      if (standard) tf.registerBackend('wasm', () => withoutEmscriptenHandlers(async () => standard()), WASM_PRIORITY)
      return
    }
    tf.registerBackend(
      'wasm',
      async () => {
        try {
          const module = wrapTfjsApi(await withoutEmscriptenHandlers(() => threadedModule(wanted)))
          wasm.setThreadsCount(wanted)
          const backend = new wasm.BackendWasm(module as never)
          // Emscripten keeps a running pthread's worker ref'd; XNNPACK's pool threads run for
          // the life of the process, so without this a CLI run would never exit.
          for (const worker of module.PThread?.runningWorkers ?? []) worker.unref?.()
          state.threads = wasm.getThreadsCount()
          state.singleThreadReason = state.threads > 1 ? null : 'the threaded build started with one thread'
          return backend
        } catch (err) {
          state.threads = 1
          state.singleThreadReason = `threaded build unavailable (${errorLine(err)})`
          if (!standard) throw err
          wasm.setThreadsCount(1)
          return withoutEmscriptenHandlers(async () => standard())
        }
      },
      WASM_PRIORITY
    )
  })().catch((err: unknown) => {
    prepared = null
    throw err
  })
  return prepared
}

/** XNNPACK threads in use once the backend is initialised (1 before). */
export function wasmThreads(): number {
  return state.threads
}

function flag(name: string): boolean {
  try {
    return tf.env().getBool(name)
  } catch {
    return false // not evaluated yet: the wasm backend has not been initialised
  }
}

/**
 * e.g. "wasm (SIMD, 2 threads) + native kernels (AVX2/FMA)" or
 * "wasm (SIMD, 1 thread: one thread requested), native kernels off: switched off (GAN_STUDIO_NATIVE=0)".
 */
export function describeWasm(): string {
  const simd = flag('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD'
  const threads = state.threads > 1 ? `${state.threads} threads` : `1 thread${state.singleThreadReason ? `: ${state.singleThreadReason}` : ''}`
  const native = describeNative()
  return `wasm (${simd}, ${threads})${native.startsWith('native kernels (') ? ` + ${native}` : `, ${native}`}`
}
