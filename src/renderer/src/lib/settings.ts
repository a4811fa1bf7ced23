import { configField, describeRange, type ConfigField, type ConfigPath } from '@shared/config-fields'
import { recommendedSettings } from '@shared/recipes'

export { getAt, setAt } from '@shared/config-fields'

export const SETTING_GROUPS = ['Basics', 'Model', 'Optimizer', 'Augmentation'] as const
export type SettingGroup = (typeof SETTING_GROUPS)[number]

export const GROUP_INTROS: Record<SettingGroup, string> = {
  Basics: 'What to learn from, how long, and how often to show you progress.',
  Model: 'The size of the two networks: the generator draws, the discriminator judges.',
  Optimizer: 'How the networks learn. The defaults are the well-tested choices for GANs.',
  Augmentation: 'Random changes to your images while training, so a small folder goes further.'
}

interface BaseSpec {
  /** Dotted path into RunConfig, e.g. `optimizer.gLr`: a typo is a type error. */
  path: ConfigPath
  label: string
  help: string
  /** The allowed range and the default in words ("1 to 256 · default 32"), from the schema. */
  hint: string | null
  group: SettingGroup
  /** Shown under "More settings" rather than up front. */
  advanced?: boolean
}
export interface NumberSpec extends BaseSpec {
  kind: 'number'
  integer: boolean
  /** Inclusive bounds only (the input's min/max); an exclusive bound is checked by the schema alone. */
  min?: number
  max?: number
  step?: number
  unit?: string
}
export interface SelectSpec extends BaseSpec {
  kind: 'select'
  options: { value: string | number; label: string }[]
}
export interface ToggleSpec extends BaseSpec {
  kind: 'toggle'
}
export interface TextSpec extends BaseSpec {
  kind: 'text'
  placeholder?: string
}
export type SettingSpec = NumberSpec | SelectSpec | ToggleSpec | TextSpec

/**
 * How the panel lays out one setting. Its label, help, type, bounds, choices and default come from
 * the schema (src/shared/config.ts); only presentation is written here.
 */
export interface PanelEntry {
  path: ConfigPath
  group: SettingGroup
  advanced?: boolean
  /** Arrow-key step of a number field. */
  step?: number
  unit?: string
  placeholder?: string
  /** Labels for a choice's values; every value the schema allows needs one. */
  optionLabels?: Record<string, string>
}

/**
 * Every setting the New run form shows (dataset, resolution and backend have their own pickers).
 * The labels "Steps" and "Batch size" are relied on by tests.
 */
export const PANEL: PanelEntry[] = [
  { path: 'name', group: 'Basics', placeholder: 'Named after the dataset' },
  { path: 'steps', group: 'Basics', step: 100 },
  { path: 'batchSize', group: 'Basics', step: 1, unit: 'images' },
  { path: 'sampleEvery', group: 'Basics', unit: 'steps' },
  {
    path: 'gridSize',
    group: 'Basics',
    optionLabels: { 16: '16 images (4 × 4)', 36: '36 images (6 × 6)', 64: '64 images (8 × 8)' }
  },
  { path: 'checkpointEvery', group: 'Basics', advanced: true, unit: 'steps' },
  { path: 'logEvery', group: 'Basics', advanced: true, unit: 'steps' },
  { path: 'quality.every', group: 'Basics', advanced: true, unit: 'steps' },
  { path: 'seed', group: 'Basics', advanced: true },

  {
    path: 'model.arch',
    group: 'Model',
    optionLabels: { dcgan: 'DCGAN (fast; up to 64 px)', lite: 'Lite, FastGAN (128 px and up)' }
  },
  { path: 'model.gChannels', group: 'Model', step: 8 },
  { path: 'model.dChannels', group: 'Model', step: 8 },
  { path: 'model.latentDim', group: 'Model', advanced: true, step: 8 },
  { path: 'ema.enabled', group: 'Model' },
  { path: 'ema.decay', group: 'Model', advanced: true, step: 0.0001 },
  { path: 'model.mbstd', group: 'Model', advanced: true },
  { path: 'model.dNorm', group: 'Model', advanced: true, optionLabels: { none: 'None', batch: 'Batch norm' } },
  { path: 'model.gNorm', group: 'Model', advanced: true, optionLabels: { channel: 'Per-pixel channel norm', none: 'None' } },
  { path: 'model.gUpsample', group: 'Model', advanced: true, optionLabels: { transposed: 'Transposed convolution', nearest: 'Upsample + convolution', 'nearest-rgb': 'Transposed, then upsample + convolution to the picture' } },

  { path: 'optimizer.gLr', group: 'Optimizer', step: 0.0001 },
  { path: 'optimizer.dLr', group: 'Optimizer', step: 0.0001 },
  {
    path: 'loss.type',
    group: 'Optimizer',
    optionLabels: { nonsaturating: 'Non-saturating (classic)', hinge: 'Hinge (steadier on big models)' }
  },
  { path: 'loss.r1Gamma', group: 'Optimizer', step: 0.1 },
  { path: 'loss.r1Every', group: 'Optimizer', advanced: true, unit: 'steps' },
  { path: 'loss.modeSeeking', group: 'Optimizer', advanced: true, step: 0.1 },
  { path: 'optimizer.gBeta1', group: 'Optimizer', advanced: true, step: 0.05 },
  { path: 'optimizer.gBeta2', group: 'Optimizer', advanced: true, step: 0.001 },
  { path: 'optimizer.dBeta1', group: 'Optimizer', advanced: true, step: 0.05 },
  { path: 'optimizer.dBeta2', group: 'Optimizer', advanced: true, step: 0.001 },

  { path: 'augment.xflip', group: 'Augmentation' },
  { path: 'augment.translation', group: 'Augmentation' },
  { path: 'augment.color', group: 'Augmentation' },
  { path: 'augment.cutout', group: 'Augmentation' }
]

/** Settings the presets choose per image size (src/shared/recipes.ts): the schema's default is not what a new run gets. */
const RECIPE_GROUPS = Object.keys(recommendedSettings(32))

function hintFor(path: string, field: ConfigField, unit: string | undefined): string | null {
  const parts: string[] = []
  const range = describeRange(field)
  if (range) parts.push(unit ? `${range} ${unit}` : range)
  const byRecipe = RECIPE_GROUPS.includes(path.split('.')[0]!)
  if (field.type !== 'boolean' && field.default !== undefined && !byRecipe) parts.push(`default ${formatValue(field.default)}`)
  return parts.length ? capitalise(parts.join(' · ')) : null
}

function formatValue(v: unknown): string {
  return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 10_000 ? v.toLocaleString('en-US') : String(v)
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** One panel entry joined with its schema field. */
export function settingSpec(entry: PanelEntry): SettingSpec {
  const field = configField(entry.path)
  if (!field.title || !field.description) throw new Error(`settings: ${entry.path} has no title or description in the schema`)
  const base = { path: entry.path, label: field.title, help: field.description, group: entry.group, advanced: entry.advanced, hint: hintFor(entry.path, field, entry.unit) }
  switch (field.type) {
    case 'integer':
    case 'number':
      return { ...base, kind: 'number', integer: field.type === 'integer', min: field.minimum, max: field.maximum, step: entry.step, unit: entry.unit }
    case 'choice':
      return {
        ...base,
        kind: 'select',
        options: field.choices!.map((value) => {
          const label = entry.optionLabels?.[String(value)]
          if (label === undefined) throw new Error(`settings: ${entry.path} has no label for the choice ${String(value)}`)
          return { value, label }
        })
      }
    case 'boolean':
      return { ...base, kind: 'toggle' }
    case 'string':
      return { ...base, hint: null, kind: 'text', placeholder: entry.placeholder }
  }
}

/** Every setting the New run form shows, in order. */
export const SETTINGS: SettingSpec[] = PANEL.map(settingSpec)

export const BACKEND_LABELS: Record<string, { title: string; short: string; blurb: string }> = {
  auto: { title: 'Automatic', short: 'Auto', blurb: 'Use the fastest engine that works on this machine.' },
  tensorflow: {
    title: 'TensorFlow (CUDA)',
    short: 'TensorFlow',
    blurb: 'NVIDIA graphics cards through TensorFlow. The fastest where it is installed.'
  },
  webgpu: { title: 'WebGPU', short: 'WebGPU', blurb: 'Any modern graphics card: Apple, AMD, Intel or NVIDIA.' },
  wasm: { title: 'WebAssembly (CPU)', short: 'WebAssembly', blurb: 'Runs on the processor with fast vector code. Works everywhere.' },
  cpu: { title: 'Plain JavaScript (CPU)', short: 'JavaScript', blurb: 'Very slow; only for tiny tests.' }
}
