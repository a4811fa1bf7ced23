import type { RunConfig } from '@shared/config'

export const SETTING_GROUPS = ['Basics', 'Model', 'Optimizer', 'Augmentation'] as const
export type SettingGroup = (typeof SETTING_GROUPS)[number]

export const GROUP_INTROS: Record<SettingGroup, string> = {
  Basics: 'What to learn from, how long, and how often to show you progress.',
  Model: 'The size of the two networks: the generator draws, the discriminator judges.',
  Optimizer: 'How the networks learn. The defaults are the well-tested choices for GANs.',
  Augmentation: 'Random changes to your images while training, so a small folder goes further.'
}

interface BaseSpec {
  /** Dotted path into RunConfig, e.g. `optimizer.gLr`. */
  path: string
  label: string
  help: string
  group: SettingGroup
  /** Shown under "More settings" rather than up front. */
  advanced?: boolean
}
export interface NumberSpec extends BaseSpec {
  kind: 'number'
  integer: boolean
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
 * Every setting the New run form shows (dataset, resolution and backend have their own pickers),
 * each with a plain-language explanation. The labels "Steps" and "Batch size" are relied on by tests.
 */
export const SETTINGS: SettingSpec[] = [
  {
    path: 'name',
    label: 'Name',
    kind: 'text',
    group: 'Basics',
    placeholder: 'Named after the dataset',
    help: 'What this run is called in the library. You can rename it later.'
  },
  {
    path: 'steps',
    label: 'Steps',
    kind: 'number',
    integer: true,
    min: 1,
    max: 10_000_000,
    step: 100,
    group: 'Basics',
    help: 'How long to train. Each step shows the networks one batch of images. More steps give better pictures and take longer.'
  },
  {
    path: 'batchSize',
    label: 'Batch size',
    kind: 'number',
    integer: true,
    min: 1,
    max: 256,
    step: 1,
    unit: 'images',
    group: 'Basics',
    help: 'Images per step. Bigger batches learn more steadily but need more memory and time per step.'
  },
  {
    path: 'sampleEvery',
    label: 'Sample every',
    kind: 'number',
    integer: true,
    min: 1,
    max: 1_000_000,
    unit: 'steps',
    group: 'Basics',
    help: 'How often to save a grid of sample images, so you can watch the pictures improve.'
  },
  {
    path: 'gridSize',
    label: 'Sample grid',
    kind: 'select',
    group: 'Basics',
    options: [
      { value: 16, label: '16 images (4 × 4)' },
      { value: 36, label: '36 images (6 × 6)' },
      { value: 64, label: '64 images (8 × 8)' }
    ],
    help: 'How many pictures each sample grid shows. They always use the same random seeds, so you can compare grids over time.'
  },
  {
    path: 'checkpointEvery',
    label: 'Save every',
    kind: 'number',
    integer: true,
    min: 1,
    max: 1_000_000,
    unit: 'steps',
    group: 'Basics',
    advanced: true,
    help: 'How often to save the whole model. A stopped or crashed run resumes from the last save.'
  },
  {
    path: 'logEvery',
    label: 'Chart every',
    kind: 'number',
    integer: true,
    min: 1,
    max: 10_000,
    unit: 'steps',
    group: 'Basics',
    advanced: true,
    help: 'How often to record the losses for the charts. Recording slows training a little.'
  },
  {
    path: 'quality.every',
    label: 'Measure quality every',
    kind: 'number',
    integer: true,
    min: 0,
    max: 1_000_000,
    unit: 'steps',
    group: 'Basics',
    advanced: true,
    help: 'How often to score the samples against your images (SWD, variety, copies) for the Quality chart; about a second each time. 0 turns it off.'
  },
  {
    path: 'seed',
    label: 'Seed',
    kind: 'number',
    integer: true,
    min: 0,
    max: 2 ** 31 - 1,
    group: 'Basics',
    advanced: true,
    help: 'The starting point for all randomness. The same seed and settings give the same run.'
  },

  {
    path: 'model.gChannels',
    label: 'Generator width',
    kind: 'number',
    integer: true,
    min: 8,
    max: 512,
    step: 8,
    group: 'Model',
    help: 'How much detail the generator can learn to draw. Wider is slower but can capture more.'
  },
  {
    path: 'model.dChannels',
    label: 'Discriminator width',
    kind: 'number',
    integer: true,
    min: 8,
    max: 512,
    step: 8,
    group: 'Model',
    help: 'How sharp the critic is. Keep it close to the generator width so neither side wins too easily.'
  },
  {
    path: 'model.latentDim',
    label: 'Latent size',
    kind: 'number',
    integer: true,
    min: 8,
    max: 512,
    step: 8,
    group: 'Model',
    advanced: true,
    help: 'Length of the random “idea” each picture starts from. 128 works well; rarely worth changing.'
  },
  {
    path: 'ema.enabled',
    label: 'Smoothed generator (EMA)',
    kind: 'toggle',
    group: 'Model',
    help: 'Keeps a slowly-averaged copy of the generator. It usually makes cleaner, steadier pictures.'
  },
  {
    path: 'ema.decay',
    label: 'EMA decay',
    kind: 'number',
    integer: false,
    min: 0,
    max: 0.9999,
    step: 0.0001,
    group: 'Model',
    advanced: true,
    help: 'How slowly the smoothed copy follows. Closer to 1 is smoother but lags behind more.'
  },

  {
    path: 'optimizer.gLr',
    label: 'Generator learning rate',
    kind: 'number',
    integer: false,
    min: 0,
    max: 0.1,
    step: 0.0001,
    group: 'Optimizer',
    help: 'How big each adjustment to the generator is. Too high and training turns chaotic; too low and it crawls.'
  },
  {
    path: 'optimizer.dLr',
    label: 'Discriminator learning rate',
    kind: 'number',
    integer: false,
    min: 0,
    max: 0.1,
    step: 0.0001,
    group: 'Optimizer',
    help: 'The same for the discriminator. Usually equal to the generator’s.'
  },
  {
    path: 'loss.type',
    label: 'Loss',
    kind: 'select',
    group: 'Optimizer',
    options: [
      { value: 'nonsaturating', label: 'Non-saturating (classic)' },
      { value: 'hinge', label: 'Hinge (steadier on big models)' }
    ],
    help: 'How the networks score each other. The classic loss suits most runs; hinge is often calmer on larger models.'
  },
  {
    path: 'loss.r1Gamma',
    label: 'R1 penalty',
    kind: 'number',
    integer: false,
    min: 0,
    max: 1000,
    step: 0.1,
    group: 'Optimizer',
    help: 'Stops the discriminator from becoming over-confident on real images, which keeps training stable. 0 turns it off.'
  },
  {
    path: 'loss.r1Every',
    label: 'R1 every',
    kind: 'number',
    integer: true,
    min: 1,
    max: 64,
    unit: 'steps',
    group: 'Optimizer',
    advanced: true,
    help: 'Apply the R1 penalty only every few steps. It saves time with little effect on quality.'
  },
  {
    path: 'optimizer.gBeta1',
    label: 'Generator momentum (β1)',
    kind: 'number',
    integer: false,
    min: 0,
    max: 0.999,
    step: 0.05,
    group: 'Optimizer',
    advanced: true,
    help: 'How much each update remembers the previous ones. 0.5 is the usual GAN choice; 0 is also common.'
  },
  {
    path: 'optimizer.gBeta2',
    label: 'Generator β2',
    kind: 'number',
    integer: false,
    min: 0,
    max: 0.9999,
    step: 0.001,
    group: 'Optimizer',
    advanced: true,
    help: 'How long a memory of update sizes to keep. 0.999 rarely needs changing.'
  },
  {
    path: 'optimizer.dBeta1',
    label: 'Discriminator momentum (β1)',
    kind: 'number',
    integer: false,
    min: 0,
    max: 0.999,
    step: 0.05,
    group: 'Optimizer',
    advanced: true,
    help: 'Momentum for the discriminator; usually the same as the generator’s.'
  },
  {
    path: 'optimizer.dBeta2',
    label: 'Discriminator β2',
    kind: 'number',
    integer: false,
    min: 0,
    max: 0.9999,
    step: 0.001,
    group: 'Optimizer',
    advanced: true,
    help: 'Long-term memory of update sizes for the discriminator.'
  },

  {
    path: 'augment.xflip',
    label: 'Mirror left–right',
    kind: 'toggle',
    group: 'Augmentation',
    help: 'Flips images at random. Doubles the variety for most subjects; turn it off for text or one-sided subjects.'
  },
  {
    path: 'augment.translation',
    label: 'Shift',
    kind: 'toggle',
    group: 'Augmentation',
    help: 'Moves images by a few pixels at random, so the model doesn’t memorise exact positions.'
  },
  {
    path: 'augment.color',
    label: 'Colour jitter',
    kind: 'toggle',
    group: 'Augmentation',
    help: 'Nudges brightness, saturation and contrast at random. Helps small folders; skip it if exact colours matter.'
  },
  {
    path: 'augment.cutout',
    label: 'Cutout',
    kind: 'toggle',
    group: 'Augmentation',
    help: 'Blanks a random square of each image. A strong remedy when the folder has only a few dozen images.'
  }
]

/** Reads a dotted path from an object. */
export function getAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** Writes a dotted path in place, creating objects on the way. */
export function setAt(obj: RunConfig | Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let cur = obj as Record<string, unknown>
  for (const key of keys.slice(0, -1)) {
    const next = cur[key]
    if (typeof next !== 'object' || next === null) cur[key] = {}
    cur = cur[key] as Record<string, unknown>
  }
  cur[keys[keys.length - 1]!] = value
}

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
