import type { RunConfig } from '@shared/config'
import type { RunDetail } from '@shared/contract'
import { StudioError } from '@shared/errors'
import type { MetricRecord, RunStatus, RunSummary, SampleSnapshot } from '@shared/runs'
import { latestGoodCheckpoint } from '../trainer/run/checkpoint'
import type { RunMeta } from '../trainer/run/format'
import { attachFineTuneStart, planFineTune } from '../trainer/run/fine-tune'
import {
  createRun,
  deleteRun,
  INTERRUPTED,
  listRuns,
  listSamples,
  readMetrics,
  readOrRebuildRun,
  readRun,
  summarizeRun,
  updateRun,
  writeRunMeta
} from '../trainer/run/runs'
import { childPath } from '../util/safe-path'
import type { DatasetLibrary } from './datasets'
import type { EventSink } from './events'
import type { JobView, TrainerHost } from './trainer-host'

export interface RunLibraryOptions {
  runsDir: string
  datasets: DatasetLibrary
  trainer: TrainerHost
  emit: EventSink
}

/** How long pause/resume/stop wait for the training loop to acknowledge before answering. */
const ACK_MS = 3000

export { INTERRUPTED }

/**
 * The run library: `<home>/runs` as the studio sees it, merged with what the trainer host knows
 * (a live job's status and step; a run left `running` on disk by a crash shows as failed and
 * resumable), plus the training verbs: start, pause, resume, stop.
 */
export class RunLibrary {
  constructor(private readonly opts: RunLibraryOptions) {}

  get dir(): string {
    return this.opts.runsDir
  }

  /** The folder of run `id` (validated by the contract's id pattern, and checked again here). */
  dirOf(id: string): string {
    return childPath(this.opts.runsDir, id)
  }

  async list(): Promise<RunSummary[]> {
    const summaries = await listRuns(this.opts.runsDir)
    return summaries.map((s) => this.present(s))
  }

  async summary(id: string): Promise<RunSummary> {
    const dir = this.dirOf(id)
    const run = await readRun(dir)
    return this.present(summarizeRun(dir, run, await listSamples(dir, run.id)))
  }

  async get(id: string): Promise<RunDetail> {
    const dir = this.dirOf(id)
    const run = await readRun(dir)
    const samples = await listSamples(dir, run.id)
    const summary = this.present(summarizeRun(dir, run, samples))
    return { run: { ...run, status: summary.status, step: summary.step, error: summary.error }, summary, samples }
  }

  async metrics(id: string, sinceStep: number): Promise<MetricRecord[]> {
    const dir = this.dirOf(id)
    await readRun(dir)
    return readMetrics(dir, sinceStep)
  }

  async samples(id: string): Promise<SampleSnapshot[]> {
    const dir = this.dirOf(id)
    const run = await readRun(dir)
    return listSamples(dir, run.id)
  }

  /** Imports (or reuses) the dataset, creates the run folder and queues the run. */
  /** Starts a new run; with `from`, a fine-tune of that run's weights (checked before any import). */
  async start(asked: RunConfig, from?: { id: string; checkpoint?: string }): Promise<RunSummary> {
    const plan = from ? await planFineTune(this.dirOf(from.id), asked, { checkpoint: from.checkpoint }) : null
    const config = plan?.config ?? asked
    const dataset = await this.opts.datasets.import(config.source, config.preprocess)
    const { dir, run } = await createRun({ runsDir: this.opts.runsDir, config: { ...config, source: dataset.source }, dataset })
    if (plan) await attachFineTuneStart(dir, plan)
    this.opts.trainer.enqueue(run.id, dir)
    return this.summary(run.id)
  }

  /** Pauses (the loop checkpoints first); answers once the loop has paused, or after a few seconds. */
  async pause(id: string): Promise<RunSummary> {
    await readRun(this.dirOf(id))
    if (await this.opts.trainer.pause(id)) {
      await this.opts.trainer.settle(id, (job) => job === null || job.state === 'paused' || job.state === 'stopping', ACK_MS)
    }
    return this.summary(id)
  }

  /**
   * Wakes a paused job, or queues a new job that continues from the newest checkpoint. `steps` is
   * a new total (the run's config is updated so the library shows it).
   */
  async resume(id: string, steps?: number): Promise<RunSummary> {
    const dir = this.dirOf(id)
    // A run whose run.json is damaged or missing is rebuilt from its newest good checkpoint.
    let run = await readOrRebuildRun(dir)
    const job = this.opts.trainer.job(id)
    if (job) {
      if (steps === undefined || steps === run.config.steps) {
        this.opts.trainer.resume(id)
        await this.opts.trainer.settle(id, (view) => view === null || view.state !== 'paused', ACK_MS)
        return this.summary(id)
      }
      // A new total for a live job: let it checkpoint and stop, then continue with the new total.
      await this.opts.trainer.stop(id)
      run = await readRun(dir)
    }
    if (steps === undefined && run.status === 'completed') {
      throw new StudioError('bad-input', `This run has finished its ${run.config.steps} steps. Give a new total to train it further.`)
    }
    const target = steps ?? run.config.steps
    // Training continues from the newest good checkpoint, whatever run.json's step says.
    const from = await resumeStep(dir)
    if (target <= from) {
      throw new StudioError('bad-input', `The run is already at step ${from}; choose a total above that.`)
    }
    if (steps !== undefined && steps !== run.config.steps) {
      await updateRun(dir, { config: { ...run.config, steps } })
    }
    this.opts.trainer.enqueue(id, dir)
    return this.summary(id)
  }

  /** Asks a live job to stop (it checkpoints; a status event follows). A run left by a crash is marked stopped. */
  async stop(id: string): Promise<RunSummary> {
    const dir = this.dirOf(id)
    const run = await readRun(dir)
    const job = this.opts.trainer.job(id)
    if (job) {
      // Answers once the run has stopped (it checkpoints first), or after a few seconds.
      const stopped = this.opts.trainer.stop(id)
      await this.opts.trainer.settle(id, (view) => view === null, ACK_MS)
      void stopped
    } else if (run.status === 'running' || run.status === 'paused') {
      await updateRun(dir, { status: 'stopped', error: null })
      this.opts.emit('train.status', { runId: id, status: 'stopped', error: null })
    }
    return this.summary(id)
  }

  async rename(id: string, name: string): Promise<RunSummary> {
    return this.patchMeta(id, { name })
  }

  async update(id: string, patch: { tags?: string[]; note?: string }): Promise<RunSummary> {
    const meta: RunMeta = {}
    if (patch.tags !== undefined) meta.tags = [...new Set(patch.tags)]
    if (patch.note !== undefined) meta.note = patch.note
    return this.patchMeta(id, meta)
  }

  async delete(id: string): Promise<void> {
    const dir = this.dirOf(id)
    if (this.opts.trainer.job(id)) throw new StudioError('busy', 'This run is training or queued; stop it before deleting it.')
    await deleteRun(dir)
  }

  /** The library's view of a run: the live job's state wins over run.json, which lags it. */
  present(summary: RunSummary): RunSummary {
    return presentRun(summary, this.opts.trainer.job(summary.id))
  }

  /** Name, tags and note go to meta.json, which only this side writes (the training loop never does). */
  private async patchMeta(id: string, meta: RunMeta): Promise<RunSummary> {
    const dir = this.dirOf(id)
    await readRun(dir)
    await writeRunMeta(dir, meta)
    return this.summary(id)
  }
}

/** The step training continues from: the newest good checkpoint's (0 without one), never run.json's claim. */
export async function resumeStep(dir: string): Promise<number> {
  return (await latestGoodCheckpoint(dir))?.manifest.step ?? 0
}

/** Pure: a run summary as shown, given the job (if any) that owns it. */
export function presentRun(summary: RunSummary, job: JobView | null): RunSummary {
  if (job) {
    // Queued runs show as running (Pause and Stop take them out of the queue); a log line says why they wait.
    const status: RunStatus = job.state === 'paused' ? 'paused' : 'running'
    return {
      ...summary,
      status,
      step: Math.max(summary.step, job.step ?? 0),
      error: null,
      resumable: status === 'paused'
    }
  }
  if (summary.status === 'running') {
    return { ...summary, status: 'failed', error: INTERRUPTED }
  }
  return summary
}
