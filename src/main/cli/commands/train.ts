import { promises as fsp } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { BACKEND_REQUESTS, CROP_MODES, RESOLUTIONS, RunConfigSchema, describeZodError, type RunConfig, type RunConfigInput } from '@shared/config'
import type { DatasetJson } from '@shared/datasets'
import { importDataset } from '../../trainer/data/dataset'
import { resolveRunDir } from '../../generate/cli'
import { attachFineTuneStart, FINE_TUNE_AUGMENT, planFineTune } from '../../trainer/run/fine-tune'
import { createRun } from '../../trainer/run/runs'
import { cacheDir, datasetsDir, runsDir } from '../../util/home'
import { parseChoice, parseIntFlag, UsageError, type CliIo } from '../io'
import { importProgressPrinter } from '../progress'
import { runTraining } from './training-session'

export const TRAIN_USAGE = `gan-studio train <imageDir> [--out <runsDir>] [--name <name>] [--resolution 32|64|128|256]
                 [--steps N] [--batch N] [--backend auto|tensorflow|webgpu|wasm|cpu] [--seed N]
                 [--crop center|pad|stretch] [--background <css colour>]
                 [--sample-every N] [--checkpoint-every N] [--config <file.json>]
                 [--from <runDir or id> [--from-checkpoint step-NNNNNN]]   (fine-tune a finished run's weights)`

async function readConfigFile(file: string): Promise<RunConfigInput> {
  let text: string
  try {
    text = await fsp.readFile(file, 'utf8')
  } catch {
    throw new UsageError(`--config: cannot read ${file}`)
  }
  try {
    const value = JSON.parse(text) as unknown
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
    return value as RunConfigInput
  } catch (err) {
    throw new UsageError(`--config: ${file} is not a JSON object (${(err as Error).message})`)
  }
}

/** Builds and validates the run config from flags (flags override --config). */
export async function configFromFlags(
  argv: string[]
): Promise<{ config: RunConfig; out: string; from?: string; fromCheckpoint?: string; chose: { arch: boolean; resolution: boolean } }> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      resolution: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      backend: { type: 'string' },
      seed: { type: 'string' },
      crop: { type: 'string' },
      background: { type: 'string' },
      'sample-every': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      config: { type: 'string' },
      from: { type: 'string' },
      'from-checkpoint': { type: 'string' }
    }
  })
  if (positionals.length !== 1) throw new UsageError(`train needs one image folder. Usage: ${TRAIN_USAGE}`)
  const source = resolve(positionals[0]!)
  const stat = await fsp.stat(source).catch(() => null)
  if (!stat) throw new UsageError(`No folder at ${source}`)
  if (!stat.isDirectory()) throw new UsageError(`${source} is a file, not a folder of images`)

  const base: RunConfigInput = values.config ? await readConfigFile(resolve(values.config)) : { source }
  if (values['from-checkpoint'] !== undefined && values.from === undefined) throw new UsageError('--from-checkpoint needs --from <run>')
  const input: RunConfigInput = {
    ...(values.from !== undefined && base.augment === undefined && { augment: { ...FINE_TUNE_AUGMENT } }),
    ...base,
    source,
    preprocess: {
      ...base.preprocess,
      ...(values.resolution !== undefined && { resolution: parseChoice('resolution', values.resolution, RESOLUTIONS) }),
      ...(values.crop !== undefined && { crop: parseChoice('crop', values.crop, CROP_MODES) }),
      ...(values.background !== undefined && { background: values.background })
    },
    ...(values.name !== undefined && { name: values.name }),
    ...(values.steps !== undefined && { steps: parseIntFlag('steps', values.steps, 1, 10_000_000) }),
    ...(values.batch !== undefined && { batchSize: parseIntFlag('batch', values.batch, 1, 256) }),
    ...(values.backend !== undefined && { backend: parseChoice('backend', values.backend, BACKEND_REQUESTS) }),
    ...(values.seed !== undefined && { seed: parseIntFlag('seed', values.seed, 0, 2 ** 31 - 1) }),
    ...(values['sample-every'] !== undefined && { sampleEvery: parseIntFlag('sample-every', values['sample-every'], 1, 1_000_000) }),
    ...(values['checkpoint-every'] !== undefined && {
      checkpointEvery: parseIntFlag('checkpoint-every', values['checkpoint-every'], 1, 1_000_000)
    })
  }
  const parsed = RunConfigSchema.safeParse(input)
  if (!parsed.success) throw new UsageError(`Invalid settings: ${describeZodError(parsed.error)}`)
  return { config: parsed.data, out: values.out ? resolve(values.out) : runsDir(), from: values.from, fromCheckpoint: values['from-checkpoint'],
    chose: { arch: base.model?.arch !== undefined, resolution: values.resolution !== undefined || base.preprocess?.resolution !== undefined }
  }
}

export function printDatasetSummary(dataset: DatasetJson, io: CliIo): void {
  io.out(
    `Dataset "${dataset.name}": ${dataset.count} usable image${dataset.count === 1 ? '' : 's'} at ${dataset.resolution} px` +
      (dataset.duplicates ? `, ${dataset.duplicates} duplicate${dataset.duplicates === 1 ? '' : 's'} removed` : '') +
      (dataset.skipped.length ? `, ${dataset.skipped.length} skipped:` : '')
  )
  const shown = dataset.skipped.slice(0, 10)
  for (const s of shown) io.out(`  skipped ${s.file}: ${s.reason}`)
  if (dataset.skipped.length > shown.length) io.out(`  … and ${dataset.skipped.length - shown.length} more (see dataset.json)`)
}

export async function importForTraining(config: RunConfig, io: CliIo): Promise<DatasetJson> {
  const progress = importProgressPrinter(io)
  try {
    return await importDataset({ source: config.source, preprocess: config.preprocess, datasetsDir: datasetsDir(), onProgress: progress.update })
  } finally {
    progress.stop()
  }
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const flags = await configFromFlags(argv)
  const { out } = flags
  // Checked before importing images, so a mismatch is one line and no work.
  const plan = flags.from !== undefined ? await planFineTune(await resolveRunDir(flags.from), flags.config, {
          checkpoint: flags.fromCheckpoint,
          inherit: { arch: !flags.chose.arch, resolution: !flags.chose.resolution }
        }) : null
  const config = plan?.config ?? flags.config
  const dataset = await importForTraining(config, io)
  printDatasetSummary(dataset, io)
  const { dir } = await createRun({ runsDir: out, config, dataset })
  if (plan) {
    await attachFineTuneStart(dir, plan)
    io.out(`Fine-tuning from "${plan.from.name}" at step ${plan.from.step} (${config.model.arch}, ${config.preprocess.resolution} px)`)
  }
  io.out(`Run folder: ${dir}`)
  return runTraining({ runDir: dir, io, backendCacheFile: `${cacheDir()}/backends.json` })
}
