import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import type { RunConfig } from '@shared/config'
import type { BackendStatus, Results } from '@shared/contract'
import type { RunJson } from '@shared/runs'
import { readRun, updateRun } from '../trainer/run/runs'
import { cacheDir, datasetsDir, runsDir } from '../util/home'
import { DatasetLibrary } from './datasets'
import { estimateMsPer1000Steps } from './estimate'
import { EventHub } from './events'
import { NearestImages } from './nearest'
import { RunLibrary } from './runs'
import type { SpawnTrainer } from './child-connection'
import { TensorJobs, type TensorJobsOptions } from './tensor-jobs'
import { TrainerHost, type TrainerHostOptions } from './trainer-host'

/** What only the desktop app can do (absent under `serve`). */
export interface DesktopShell {
  /** The system folder dialog; null when cancelled. */
  pickFolder(): Promise<string | null>
  /** Opens a folder in the file manager; rejects with a readable reason. */
  openPath(path: string): Promise<void>
}

export interface StudioOptions {
  home: string
  mode: 'desktop' | 'browser'
  spawnTrainer: SpawnTrainer
  shell?: DesktopShell | null
  /** Throttling and timeouts for the trainer host (tests shorten them). */
  trainer?: Partial<Pick<TrainerHostOptions, 'progressIntervalMs' | 'logLinesPerSecond' | 'readyTimeoutMs' | 'exitGraceMs'>>
  /** How long the child for generate, walk and export stays warm, and how long a cancel may take. */
  jobs?: Partial<Pick<TensorJobsOptions, 'idleMs' | 'cancelGraceMs'>>
}

/**
 * The studio's services, wired once per process (Electron main or `serve`) and handed to every
 * request handler. No module-level state: everything lives on this object.
 */
export class Studio {
  readonly home: string
  readonly mode: 'desktop' | 'browser'
  readonly events = new EventHub()
  readonly trainer: TrainerHost
  /** Generate, walk and export, run in a trainer child (this process never loads tfjs). */
  readonly jobs: TensorJobs
  readonly datasets: DatasetLibrary
  readonly runs: RunLibrary
  readonly shell: DesktopShell | null
  /** "Nearest training images" for generated ones. */
  readonly nearest: NearestImages
  private calibrationStarted = false

  constructor(options: StudioOptions) {
    this.home = options.home
    this.mode = options.mode
    this.shell = options.shell ?? null
    const backendCacheFile = join(cacheDir(this.home), 'backends.json')
    this.trainer = new TrainerHost({
      spawn: options.spawnTrainer,
      emit: this.events.emit,
      store: { readRun, updateRun },
      datasetsDir: datasetsDir(this.home),
      backendCacheFile,
      ...options.trainer
    })
    this.jobs = new TensorJobs({
      spawn: options.spawnTrainer,
      init: { type: 'init', datasetsDir: datasetsDir(this.home), backendCacheFile, progressIntervalMs: options.trainer?.progressIntervalMs ?? 100 },
      ...(options.trainer?.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.trainer.readyTimeoutMs } : {}),
      ...(options.trainer?.exitGraceMs !== undefined ? { exitGraceMs: options.trainer.exitGraceMs } : {}),
      ...options.jobs
    })
    this.datasets = new DatasetLibrary({
      datasetsDir: datasetsDir(this.home),
      emit: this.events.emit,
      isInUse: (id) => this.datasetInUse(id)
    })
    this.nearest = new NearestImages(datasetsDir(this.home))
    this.runs = new RunLibrary({ runsDir: runsDir(this.home), datasets: this.datasets, trainer: this.trainer, emit: this.events.emit })
  }

  /** Creates the home's folders (a fresh install has none). */
  async prepare(): Promise<void> {
    for (const dir of [runsDir(this.home), datasetsDir(this.home), cacheDir(this.home)]) await fsp.mkdir(dir, { recursive: true })
  }

  backends(options: { refresh?: boolean } = {}): Promise<BackendStatus[]> {
    return this.trainer.probeBackends(options)
  }

  async estimate(config: RunConfig): Promise<Results['runs.estimate']> {
    const backends = this.trainer.cachedBackends() ?? (await this.trainer.probeBackends())
    const history: RunJson[] = []
    for (const summary of await this.runs.list()) {
      try {
        history.push(await readRun(summary.dir))
      } catch {
        // unreadable run: no evidence
      }
    }
    const estimate = estimateMsPer1000Steps(config, backends, history)
    if (estimate.msPer1000Steps === null && !this.calibrationStarted && !this.trainer.active()) {
      // No speeds measured on this machine yet: measure once in the background (cached on disk);
      // the next estimate has them.
      this.calibrationStarted = true
      void this.trainer.probeBackends({ calibrate: true }).catch(() => undefined)
    }
    return estimate
  }

  /**
   * Quitting: imports and image jobs are cancelled, queued runs stay resumable, the running job
   * checkpoints and stops.
   */
  async shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    this.datasets.abortAll()
    await this.jobs.shutdown()
    await this.trainer.shutdown(options)
  }

  private async datasetInUse(id: string): Promise<boolean> {
    for (const job of this.trainer.jobs()) {
      try {
        const run = await readRun(this.runs.dirOf(job.runId))
        if (run.dataset.id === id) return true
      } catch {
        // a run folder that vanished uses nothing
      }
    }
    return false
  }
}
