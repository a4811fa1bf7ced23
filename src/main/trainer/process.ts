/**
 * The trainer child: `out/main/trainer-process.js`. It runs as an Electron utility process (desktop,
 * `process.parentPort`) or as a plain Node child (`gan-studio serve`, `child_process.fork` IPC), and
 * in tests on an in-memory port. It never imports `electron`.
 *
 * It answers the port protocol of ./child-messages: an `init` message with the paths, then jobs (`train`,
 * `probe`, and the tensor jobs `generate`, `walk`, `export`, `render`, `variations`, `exportCollection`, `directions`, `find`) that stream events back and end with
 * `done` or `failed`; `control` messages flip the cooperative pause/stop flags the training loop
 * polls between steps, `cancel` aborts a job at its next check.
 */
import { toErrorShape } from '@shared/errors'
import type { StudioErrorShape } from '@shared/errors'
import type { BackendStatus } from '@shared/contract'
import type { RunJson } from '@shared/runs'
import type * as Jobs from '../generate/jobs'
import type { TensorJobContext } from '../generate/jobs'
import type { TrainControl } from './events'
import {
  TRAINER_CHILD_ENV,
  isHostMessage,
  type ChildMessage,
  type ChildPort,
  type HostMessage,
  type JobMethod,
  type JobMethods,
  type StartJob,
  type TrainerInit
} from './child-messages'
import { progressCoalescer } from './progress-coalescer'
import type { TrainRunOptions } from './train'

/** What a job passes to trainRun (type-only: the engine itself is loaded lazily). */
export type TrainJobOptions = Omit<TrainRunOptions, 'allowCpu'>

/** What the child runs; the defaults load the real engine lazily (tests pass fakes). */
export interface TrainerDeps {
  trainRun(opts: TrainJobOptions): Promise<RunJson>
  /** With `calibrate`, measures every backend first (cached in backendCacheFile) so speeds are known. */
  probeBackends(opts: { backendCacheFile: string | null; calibrate: boolean }): Promise<BackendStatus[]>
  generate(input: JobMethods['generate']['input'], ctx: TensorJobContext): Promise<JobMethods['generate']['output']>
  walk(input: JobMethods['walk']['input'], ctx: TensorJobContext): Promise<JobMethods['walk']['output']>
  exportModel(input: JobMethods['export']['input'], ctx: TensorJobContext): Promise<JobMethods['export']['output']>
  render(input: JobMethods['render']['input'], ctx: TensorJobContext): Promise<JobMethods['render']['output']>
  variations(input: JobMethods['variations']['input'], ctx: TensorJobContext): Promise<JobMethods['variations']['output']>
  exportCollection(input: JobMethods['exportCollection']['input'], ctx: TensorJobContext): Promise<JobMethods['exportCollection']['output']>
  directions(input: JobMethods['directions']['input'], ctx: TensorJobContext): Promise<JobMethods['directions']['output']>
  find(input: JobMethods['find']['input'], ctx: TensorJobContext): Promise<JobMethods['find']['output']>
}

export interface ServeTrainerOptions {
  deps?: Partial<TrainerDeps>
  /** Called once every job has ended after an `exit` message. Default: nothing (tests). */
  onExit?: () => void
}

type TensorJobs = typeof Jobs
type TensorJobName = 'generateJob' | 'walkJob' | 'exportJob' | 'renderJob' | 'variationsJob' | 'exportCollectionJob' | 'directionsJob' | 'findJob'

/** A tensor job of generate/jobs.ts, loaded (with TensorFlow.js) on first use. */
function lazyJob<K extends TensorJobName>(name: K): TensorJobs[K] {
  const run = async (...args: unknown[]): Promise<unknown> => {
    const job = (await import('../generate/jobs'))[name] as (...a: unknown[]) => Promise<unknown>
    return job(...args)
  }
  return run as unknown as TensorJobs[K]
}

const defaultDeps: TrainerDeps = {
  async trainRun(opts) {
    const { trainRun } = await import('./train')
    return trainRun(opts)
  },
  async probeBackends({ backendCacheFile, calibrate }) {
    const { initBackend, probeBackends } = await import('./tf/backends')
    const cacheFile = backendCacheFile ?? undefined
    if (calibrate) {
      try {
        await initBackend('auto', { cacheFile })
      } catch {
        // Nothing fast enough works here: probeBackends says why for each one.
      }
    }
    return probeBackends({ cacheFile })
  },
  generate: lazyJob('generateJob'),
  walk: lazyJob('walkJob'),
  exportModel: lazyJob('exportJob'),
  render: lazyJob('renderJob'),
  variations: lazyJob('variationsJob'),
  exportCollection: lazyJob('exportCollectionJob'),
  directions: lazyJob('directionsJob'),
  find: lazyJob('findJob')
}

interface LiveJob {
  control: TrainControl
  abort: AbortController
  flush(): void
}

export interface TrainerServer {
  /** Resolves when every job has ended. */
  idle(): Promise<void>
  /** As the `exit` message: stop every job (each checkpoints), then call onExit. */
  shutdown(): void
}

/** Answers the protocol on `port`. */
export function serveTrainer(port: ChildPort, options: ServeTrainerOptions = {}): TrainerServer {
  const deps: TrainerDeps = { ...defaultDeps, ...options.deps }
  const jobs = new Map<string, LiveJob>()
  const running = new Set<Promise<void>>()
  let init: TrainerInit | null = null
  let exiting = false
  let exited = false

  const post = (message: ChildMessage): void => {
    try {
      port.postMessage(message)
    } catch {
      // The host is gone; the job will notice through its control flags or end on its own.
    }
  }

  const finishIfExiting = (): void => {
    if (exiting && !exited && jobs.size === 0) {
      exited = true
      options.onExit?.()
    }
  }

  const startJob = (message: StartJob): void => {
    if (!init) {
      post({ type: 'failed', jobId: message.jobId, error: { code: 'internal', message: 'The trainer was not initialised.' } })
      return
    }
    if (jobs.has(message.jobId)) {
      post({ type: 'failed', jobId: message.jobId, error: { code: 'busy', message: `Job ${message.jobId} is already running.` } })
      return
    }
    const paths = init
    const control: TrainControl = { pause: false, stop: false }
    const abort = new AbortController()
    const emitter = progressCoalescer((event) => post({ type: 'event', jobId: message.jobId, event }), paths.progressIntervalMs)
    jobs.set(message.jobId, { control, abort, flush: emitter.flush })
    const ctx: TensorJobContext = { backendCacheFile: paths.backendCacheFile, signal: abort.signal, emit: emitter.emit }

    const work = (async (): Promise<unknown> => {
      switch (message.method) {
        case 'train':
          return deps.trainRun({
            runDir: message.input.runDir,
            datasetsDir: paths.datasetsDir,
            control,
            emit: emitter.emit,
            ...(paths.backendCacheFile ? { backendCacheFile: paths.backendCacheFile } : {})
          })
        case 'probe':
          return deps.probeBackends({ backendCacheFile: paths.backendCacheFile, calibrate: message.input.calibrate === true })
        case 'generate':
          return deps.generate(message.input, ctx)
        case 'walk':
          return deps.walk(message.input, ctx)
        case 'export':
          return deps.exportModel(message.input, ctx)
        case 'render':
          return deps.render(message.input, ctx)
        case 'variations':
          return deps.variations(message.input, ctx)
        case 'exportCollection':
          return deps.exportCollection(message.input, ctx)
        case 'directions':
          return deps.directions(message.input, ctx)
        case 'find':
          return deps.find(message.input, ctx)
      }
    })()

    const settled = work.then(
      (output) => {
        emitter.flush()
        jobs.delete(message.jobId)
        post({ type: 'done', jobId: message.jobId, output })
      },
      (err: unknown) => {
        emitter.flush()
        jobs.delete(message.jobId)
        post({ type: 'failed', jobId: message.jobId, error: describeJobError(err, message.method) })
      }
    )
    const tracked = settled.finally(() => {
      running.delete(tracked)
      finishIfExiting()
    })
    running.add(tracked)
  }

  const handle = (message: HostMessage): void => {
    switch (message.type) {
      case 'init':
        init = message
        return
      case 'job':
        if (exiting) {
          post({ type: 'failed', jobId: message.jobId, error: { code: 'cancelled', message: 'The trainer is shutting down.' } })
          return
        }
        startJob(message)
        return
      case 'control': {
        const job = jobs.get(message.jobId)
        if (!job) return
        if (message.pause !== undefined) job.control.pause = message.pause
        if (message.stop !== undefined) job.control.stop = message.stop
        return
      }
      case 'cancel': {
        const job = jobs.get(message.jobId)
        if (!job) return
        job.control.stop = true
        job.abort.abort()
        return
      }
      case 'exit':
        shutdown()
        return
    }
  }

  const shutdown = (): void => {
    exiting = true
    for (const job of jobs.values()) {
      job.control.stop = true
      job.abort.abort()
    }
    finishIfExiting()
  }

  port.onMessage((message) => {
    if (isHostMessage(message)) handle(message)
  })
  // The handshake: the host sends `init` and jobs only once it hears this (no message is lost to a
  // child still loading its modules).
  post({ type: 'ready', pid: process.pid })

  return {
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running])
    },
    shutdown
  }
}

function describeJobError(err: unknown, method: JobMethod = 'train'): StudioErrorShape {
  if (err instanceof RangeError && /allocation failed|out of memory|Invalid array length/i.test(err.message)) {
    return method === 'train'
      ? { code: 'crashed', message: `Training ran out of memory (${err.message}). Try a smaller batch size or resolution.` }
      : { code: 'crashed', message: `Ran out of memory (${err.message}). Try fewer images or frames at a time, or no upscale.` }
  }
  return toErrorShape(err)
}

// ---- bootstrap: only when started by the host as the trainer child ----

interface ElectronParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void
  postMessage(message: unknown): void
}

function childPortFromProcess(): ChildPort | null {
  const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort
  if (parentPort) {
    return {
      postMessage: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data as HostMessage))
    }
  }
  const send = process.send?.bind(process)
  if (send) {
    return {
      postMessage: (message) => {
        if (process.connected) send(message)
      },
      onMessage: (listener) => process.on('message', (message) => listener(message as HostMessage))
    }
  }
  return null
}

function startAsChild(): void {
  const port = childPortFromProcess()
  if (!port) {
    process.stderr.write('trainer-process: started without a parent port (run it through the studio or `gan-studio serve`).\n')
    process.exit(2)
  }
  const fatal = (err: unknown): void => {
    try {
      port.postMessage({ type: 'fatal', error: describeJobError(err) })
    } finally {
      process.stderr.write(`trainer-process: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      setTimeout(() => process.exit(1), 100)
    }
  }
  process.on('uncaughtException', fatal)
  process.on('unhandledRejection', fatal)
  const server = serveTrainer(port, { onExit: () => setTimeout(() => process.exit(0), 10) })
  // A plain Node child whose parent went away stops its job (with a checkpoint) and exits.
  process.on('disconnect', () => server.shutdown())
  // Ctrl-C in a terminal reaches the whole process group: the host decides (it stops the job
  // with a checkpoint). A SIGTERM meant for this process alone stops the job the same way.
  process.on('SIGINT', () => undefined)
  process.on('SIGTERM', () => server.shutdown())
}

if (process.env[TRAINER_CHILD_ENV] === '1') startAsChild()
