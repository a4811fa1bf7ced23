import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import type { RunConfig } from '@shared/config'
import { StudioError } from '@shared/errors'
import type { FineTunedFrom, RunJson } from '@shared/runs'
import type { GanState } from '../model/gan'
import { loadCheckpoint, readCheckpoint } from './checkpoint'
import { readRun, updateRun } from './runs'
import { fsyncDir } from '../../util/fs'

/**
 * Fine-tuning: a new run on another folder that starts from a finished run's weights (generator,
 * discriminator and EMA generator) with a fresh optimizer and step 0. The starting checkpoint is
 * copied into the new run's folder (`fine-tune-start/checkpoints/step-NNNNNN/`, checksum and all),
 * so the run resumes and travels without the base run.
 */

export const FINE_TUNE_START = 'fine-tune-start'

/** Augmentations a fine-tune gets unless its settings say otherwise: few images need them most. */
export const FINE_TUNE_AUGMENT = { xflip: true, translation: true, color: true, cutout: false } as const

/** Names of the tensors that are weights (copied from the base); optimizer moments and counters start fresh. */
const isWeight = (name: string): boolean => name.startsWith('g/') || name.startsWith('d/') || name.startsWith('ema/')

export interface FineTunePlan {
  /** The new run's settings: the base's model (so every weight fits), everything else as asked. */
  config: RunConfig
  from: FineTunedFrom
  baseDir: string
}

/**
 * Checks that a new run can start from the base run's checkpoint (the newest good one by default):
 * same model family and resolution, or a clear sentence saying what differs. The new run takes the
 * base's model settings (widths, latent size, normalisation) so every weight fits.
 */
export async function planFineTune(
  baseDir: string,
  asked: RunConfig,
  opts: { checkpoint?: string; /** Take these from the base instead of checking them (the person did not choose them). */ inherit?: { arch?: boolean; resolution?: boolean } } = {}
): Promise<FineTunePlan> {
  const base: RunJson = await readRun(baseDir)
  let ckpt
  try {
    ckpt = await loadCheckpoint(baseDir, opts.checkpoint)
  } catch (err) {
    if ((err as { code?: string }).code === 'not-found' && !opts.checkpoint)
      throw new StudioError('bad-input', `The run "${base.name}" has no checkpoint yet, so there are no weights to fine-tune from.`)
    throw err
  }
  const was = ckpt.manifest.config
  const config: RunConfig = {
    ...asked,
    preprocess: opts.inherit?.resolution ? { ...asked.preprocess, resolution: was.preprocess.resolution } : asked.preprocess,
    model: opts.inherit?.arch ? { ...asked.model, arch: was.model.arch } : asked.model
  }
  const wasRes = was.preprocess.resolution
  const res = config.preprocess.resolution
  const differs: string[] = []
  if (was.model.arch !== config.model.arch) differs.push(`family ${was.model.arch}, not ${config.model.arch}`)
  if (wasRes !== res) differs.push(`${wasRes} px, not ${res} px`)
  if (differs.length)
    throw new StudioError(
      'bad-input',
      `Cannot fine-tune from "${base.name}": its model differs (${differs.join('; ')}). A fine-tune keeps the model family and resolution of the run it starts from; choose ${was.model.arch} at ${wasRes} px or another run.`
    )
  return {
    config: { ...config, model: { ...was.model } },
    from: { run: base.id, name: base.name, step: ckpt.manifest.step, checkpoint: ckpt.name },
    baseDir
  }
}

/** Copies the base checkpoint into the new run's folder and records where the run started. */
export async function attachFineTuneStart(runDir: string, plan: FineTunePlan): Promise<RunJson> {
  const from = join(plan.baseDir, 'checkpoints', plan.from.checkpoint)
  const parent = join(runDir, FINE_TUNE_START, 'checkpoints')
  const to = join(parent, plan.from.checkpoint)
  const tmp = `${to}.tmp-${process.pid}-${Date.now()}`
  await fsp.mkdir(parent, { recursive: true })
  await fsp.cp(from, tmp, { recursive: true })
  await fsyncDir(tmp)
  await fsp.rm(to, { recursive: true, force: true })
  await fsp.rename(tmp, to)
  await fsyncDir(parent)
  // Read back now (checksum included), so a bad copy fails here and not at the first step.
  await readCheckpoint(join(runDir, FINE_TUNE_START), plan.from.checkpoint)
  return updateRun(runDir, { fineTunedFrom: plan.from })
}

/**
 * The state a fine-tuned run starts from: the fresh runner's state (optimizer moments at zero,
 * step counters at 0, the run's own RNG) with every weight replaced by the base checkpoint's.
 */
export async function fineTuneStartState(runDir: string, from: FineTunedFrom, fresh: GanState): Promise<GanState> {
  let ckpt
  try {
    ckpt = await readCheckpoint(join(runDir, FINE_TUNE_START), from.checkpoint)
  } catch (err) {
    throw new StudioError('bad-input', `This run is a fine-tune of "${from.name}", but its starting weights (${FINE_TUNE_START}/checkpoints/${from.checkpoint}) cannot be read: ${(err as Error).message}`)
  }
  const tensors: GanState['tensors'] = { ...fresh.tensors }
  let copied = 0
  for (const [name, t] of Object.entries(fresh.tensors)) {
    if (!isWeight(name)) continue
    const b = ckpt.tensors[name]
    if (!b) throw new StudioError('bad-input', `The starting weights from "${from.name}" have no ${name}; the models do not match.`)
    if (b.shape.join('x') !== t.shape.join('x'))
      throw new StudioError('bad-input', `The starting weights from "${from.name}" do not fit: ${name} is ${b.shape.join('×')}, this run needs ${t.shape.join('×')}.`)
    tensors[name] = { shape: t.shape, data: b.data }
    copied++
  }
  if (copied === 0) throw new StudioError('bad-input', `The starting weights from "${from.name}" hold no weights this run uses.`)
  return { ...fresh, tensors }
}
