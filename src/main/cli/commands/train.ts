import { promises as fsp } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { describeZodError, G_UPSAMPLE_NOTES, type RunConfig, type RunConfigInput } from '@shared/config'
import { configField, describeRange, setAt, type ConfigPath } from '@shared/config-fields'
import { newRunConfig } from '@shared/recipes'
import type { DatasetJson } from '@shared/datasets'
import { printable } from '@shared/text'
import { importDataset } from '../../trainer/data/dataset'
import { attachFineTuneStart, FINE_TUNE_AUGMENT, planFineTune } from '../../trainer/run/fine-tune'
import { createRun } from '../../trainer/run/runs'
import { cacheDir, datasetsDir, runsDir } from '../../util/home'
import { parseSettingFlag, resolveRunDir, UsageError, type CliIo } from '../io'
import { importProgressPrinter } from '../progress'
import { runTraining } from './training-session'

/** The flags that set run settings, each bound to its schema field (bounds, choices, default, help). */
export const SETTING_FLAGS = [
  { flag: 'name', path: 'name', value: '<name>' },
  { flag: 'resolution', path: 'preprocess.resolution' },
  { flag: 'steps', path: 'steps' },
  { flag: 'batch', path: 'batchSize' },
  { flag: 'backend', path: 'backend' },
  { flag: 'seed', path: 'seed' },
  { flag: 'crop', path: 'preprocess.crop' },
  { flag: 'background', path: 'preprocess.background', value: '<css colour>' },
  { flag: 'sample-every', path: 'sampleEvery' },
  { flag: 'checkpoint-every', path: 'checkpointEvery' }
] as const satisfies readonly { flag: string; path: ConfigPath; value?: string }[]

function flagValue(f: (typeof SETTING_FLAGS)[number]): string {
  if ('value' in f) return f.value
  const field = configField(f.path)
  return field.type === 'choice' ? field.choices!.join('|') : 'N'
}

export function trainUsage(): string {
  const flags = [
    ...SETTING_FLAGS.map((f) => `[--${f.flag} ${flagValue(f)}]`),
    '[--out <runsDir>]',
    '[--config <file.json>]',
    '[--from <runDir or id> [--from-checkpoint step-NNNNNN]]'
  ]
  const lines = ['gan-studio train <imageDir>']
  for (const flag of flags) {
    if (lines[lines.length - 1]!.length + flag.length + 1 > 96) lines.push(' '.repeat(17) + flag)
    else lines[lines.length - 1] += ` ${flag}`
  }
  return lines.join('\n')
}

/** `train --help`: the usage, then each setting flag with its help, range and default from the schema. */
export function trainHelp(): string {
  const rows = SETTING_FLAGS.map((f) => {
    const field = configField(f.path)
    const range = field.type === 'choice' ? null : describeRange(field)
    const extra = [range, field.default !== undefined ? `default ${String(field.default)}` : null].filter(Boolean).join(', ')
    return [`  --${f.flag} ${flagValue(f)}`, `${field.description ?? field.title ?? f.path}${extra ? ` (${extra})` : ''}`] as const
  })
  const width = Math.max(...rows.map(([left]) => left.length))
  return [
    trainUsage(),
    '',
    ...rows.map(([left, right]) => `${left.padEnd(width)}  ${right}`),
    `${'  --out <runsDir>'.padEnd(width)}  Where the run folder goes (default: the studio home's runs folder).`,
    `${'  --config <file.json>'.padEnd(width)}  Any run setting from a JSON file (see src/shared/config.ts); flags override it.`,
    `${'  --from <runDir or id>'.padEnd(width)}  Fine-tune: start from a finished run's weights (same family and resolution; shift and colour augmentation on).`,
    `${'  --from-checkpoint <name>'.padEnd(width)}  With --from: which of its checkpoints (default: the newest good one).`
  ].join('\n')
}

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

function parseTrainArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...Object.fromEntries(SETTING_FLAGS.map((f) => [f.flag, { type: 'string' as const }])),
      out: { type: 'string' },
      config: { type: 'string' },
      from: { type: 'string' },
      'from-checkpoint': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
}

interface FlagConfig {
  config: RunConfig
  /** What was asked for, to re-apply once the folder's size is known. */
  chosen: RunConfigInput
  out: string
  /** Fine-tune: the run to start from, and which checkpoint of it. */
  from?: string
  fromCheckpoint?: string
  /** Whether the person chose these (otherwise a fine-tune takes them from its base). */
  chose: { arch: boolean; resolution: boolean }
}

/**
 * Builds and validates the run config from flags (flags override --config; both override the
 * recommended settings for the resolution, see src/shared/recipes.ts).
 */
export async function configFromFlags(argv: string[]): Promise<FlagConfig> {
  return configFromArgs(parseTrainArgs(argv))
}

async function configFromArgs({ values, positionals }: ReturnType<typeof parseTrainArgs>): Promise<FlagConfig> {
  if (positionals.length !== 1) throw new UsageError(`train needs one image folder. Usage: ${trainUsage()}`)
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
    preprocess: { ...base.preprocess }
  }
  for (const f of SETTING_FLAGS) {
    const raw = (values as Record<string, string | undefined>)[f.flag]
    if (raw !== undefined) setAt(input, f.path, parseSettingFlag(f.flag, raw, configField(f.path)))
  }
  return {
    config: validConfig(input, null),
    chosen: input,
    out: values.out ? resolve(values.out) : runsDir(),
    from: values.from,
    fromCheckpoint: values['from-checkpoint'],
    chose: { arch: base.model?.arch !== undefined, resolution: (values as Record<string, unknown>).resolution !== undefined || base.preprocess?.resolution !== undefined }
  }
}

/** The recommended settings for this size and folder under what was chosen; a usage error if invalid. */
export function validConfig(chosen: RunConfigInput, imageCount: number | null): RunConfig {
  const parsed = newRunConfig(chosen, imageCount)
  if (!parsed.success) throw new UsageError(`Invalid settings: ${describeZodError(parsed.error)}`)
  return parsed.data
}

export function printDatasetSummary(dataset: DatasetJson, io: CliIo): void {
  io.out(
    `Dataset "${printable(dataset.name)}": ${dataset.count} usable image${dataset.count === 1 ? '' : 's'} at ${dataset.resolution} px` +
      (dataset.duplicates ? `, ${dataset.duplicates} duplicate${dataset.duplicates === 1 ? '' : 's'} removed` : '') +
      (dataset.skipped.length ? `, ${dataset.skipped.length} skipped:` : '')
  )
  const shown = dataset.skipped.slice(0, 10)
  for (const s of shown) io.out(`  skipped ${printable(s.file)}: ${printable(s.reason)}`)
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
  const args = parseTrainArgs(argv)
  if (args.values.help) {
    io.out(trainHelp())
    return 0
  }
  const flags = await configFromArgs(args)
  const { out } = flags
  // Checked before importing images, so a mismatch is one line and no work.
  const plan =
    flags.from !== undefined
      ? await planFineTune(await resolveRunDir(flags.from), flags.config, {
          checkpoint: flags.fromCheckpoint,
          inherit: { arch: !flags.chose.arch, resolution: !flags.chose.resolution }
        })
      : null
  // A fine-tune keeps its base's model (so every weight fits) and resolution.
  const chosen: RunConfigInput = plan
    ? { ...flags.chosen, preprocess: { ...flags.chosen.preprocess, resolution: plan.config.preprocess.resolution }, model: { ...plan.config.model } }
    : flags.chosen
  const dataset = await importForTraining(plan?.config ?? flags.config, io)
  printDatasetSummary(dataset, io)
  const config = validConfig(chosen, dataset.count)
  io.out(`Model: ${describeModel(config)}`)
  const { dir } = await createRun({ runsDir: out, config, dataset })
  if (plan) {
    await attachFineTuneStart(dir, plan)
    io.out(`Fine-tuning from "${printable(plan.from.name)}" at step ${plan.from.step} (${config.model.arch}, ${config.preprocess.resolution} px)`)
  }
  io.out(`Run folder: ${printable(dir)}`)
  return runTraining({ runDir: dir, io, backendCacheFile: `${cacheDir()}/backends.json` })
}

/** One line on what will be trained: "lite, G 16 / D 32 channels, z 64, hinge + R1 0.2, augment: xflip, translation, cutout". */
export function describeModel(config: RunConfig): string {
  const m = config.model
  const aug = Object.entries(config.augment)
    .filter(([, on]) => on)
    .map(([k]) => k)
  const loss = config.loss.type + (config.loss.r1Gamma > 0 ? ` + R1 ${config.loss.r1Gamma}` : '') + (config.loss.modeSeeking > 0 ? ` + mode seeking ${config.loss.modeSeeking}` : '')
  const extras = [m.arch === 'dcgan' ? G_UPSAMPLE_NOTES[m.gUpsample] : null, m.dNorm === 'batch' ? 'D batch norm' : null, m.mbstd ? 'minibatch stddev' : null, config.ema.enabled ? 'EMA' : null].filter(Boolean)
  return `${m.arch}, G ${m.gChannels} / D ${m.dChannels} channels, z ${m.latentDim}, ${loss}${extras.length ? `, ${extras.join(', ')}` : ''}; augment: ${aug.length ? aug.join(', ') : 'none'}`
}
