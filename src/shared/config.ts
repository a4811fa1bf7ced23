import { z } from 'zod'

/** Run configuration: one schema for the CLI, the studio's form, run.json and the trainer. */

export const RESOLUTIONS = [32, 64, 128, 256] as const
export type Resolution = (typeof RESOLUTIONS)[number]

export const BACKEND_REQUESTS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const
export type BackendRequest = (typeof BACKEND_REQUESTS)[number]
export type BackendName = Exclude<BackendRequest, 'auto'>
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu']

export const CROP_MODES = ['center', 'pad', 'stretch'] as const
export type CropMode = (typeof CROP_MODES)[number]

export const LOSSES = ['nonsaturating', 'hinge'] as const
export type LossType = (typeof LOSSES)[number]

const resolution = z.union([z.literal(32), z.literal(64), z.literal(128), z.literal(256)], {
  error: 'must be 32, 64, 128 or 256'
})
const int = (min: number, max: number) => z.number().int('must be a whole number').min(min).max(max)

/** How source images become training pixels. Part of the dataset cache key. */
export const PreprocessSchema = z.object({
  resolution: resolution.default(32),
  crop: z.enum(CROP_MODES).default('center'),
  /** CSS colour that transparency is flattened onto and that `pad` letterboxes with. */
  background: z.string().min(1).max(64).default('#ffffff')
})
export type Preprocess = z.infer<typeof PreprocessSchema>

/** Model families (src/main/trainer/model/families). Runs saved before families existed are `dcgan`. */
export const MODEL_ARCHS = ['dcgan', 'lite'] as const
export type ModelArch = (typeof MODEL_ARCHS)[number]

export const ModelSchema = z.object({
  arch: z.enum(MODEL_ARCHS).default('dcgan'),
  /** Minibatch standard deviation in the discriminator: lets it see how varied a batch is (against collapse). */
  mbstd: z.boolean().default(false),
  /** Normalisation in the generator: over each pixel's channels, or none. Either keeps one seed one image. */
  gNorm: z.enum(['channel', 'none']).default('channel'),
  /** Batch norm in the discriminator (not its first layer), over real and generated images separately. */
  dNorm: z.enum(['none', 'batch']).default('none'),
  latentDim: int(8, 512).default(128),
  /** Width of the generator's last hidden layer; earlier layers double it (capped at 512). */
  gChannels: int(8, 512).default(64),
  dChannels: int(8, 512).default(64)
})

export const OptimizerSchema = z.object({
  gLr: z.number().gt(0).max(0.1).default(0.0002),
  dLr: z.number().gt(0).max(0.1).default(0.0002),
  gBeta1: z.number().min(0).lt(1).default(0.5),
  gBeta2: z.number().min(0).lt(1).default(0.999),
  dBeta1: z.number().min(0).lt(1).default(0.5),
  dBeta2: z.number().min(0).lt(1).default(0.999)
})

export const LossSchema = z.object({
  type: z.enum(LOSSES).default('nonsaturating'),
  /** R1 gradient penalty weight on real images; 0 turns it off. */
  r1Gamma: z.number().min(0).max(1000).default(0),
  /** Apply R1 every N discriminator steps (lazy regularisation). */
  r1Every: int(1, 64).default(4)
})

export const AugmentSchema = z.object({
  xflip: z.boolean().default(true),
  color: z.boolean().default(false),
  translation: z.boolean().default(false),
  cutout: z.boolean().default(false)
})

export const EmaSchema = z.object({
  enabled: z.boolean().default(true),
  /** Per-step decay of the generator's moving average (ramped up over the first steps: min(decay, (1+t)/(10+t))). */
  decay: z.number().min(0).lt(1).default(0.999)
})

export const QualitySchema = z.object({
  /** Measure SWD, KID, variety and memorisation every N steps (and at the last step); 0 turns it off. */
  every: int(0, 1_000_000).default(500),
  /** Generated images (fixed seeds) scored each time. */
  images: int(8, 256).default(64)
})

export const RunConfigSchema = z.object({
  name: z.string().trim().min(1).max(120).optional(),
  /** Absolute path of the image folder the dataset was imported from. */
  source: z.string().min(1),
  preprocess: PreprocessSchema.prefault({}),
  steps: int(1, 10_000_000).default(2000),
  batchSize: int(1, 256).default(32),
  backend: z.enum(BACKEND_REQUESTS).default('auto'),
  seed: int(0, 2 ** 31 - 1).default(1),
  sampleEvery: int(1, 1_000_000).default(100),
  checkpointEvery: int(1, 1_000_000).default(500),
  /** Log metrics every N steps (reading losses back costs a GPU→CPU sync, so not every step). */
  logEvery: int(1, 10_000).default(10),
  model: ModelSchema.prefault({}),
  optimizer: OptimizerSchema.prefault({}),
  loss: LossSchema.prefault({}),
  augment: AugmentSchema.prefault({}),
  ema: EmaSchema.prefault({}),
  quality: QualitySchema.prefault({}),
  /** Number of images in the fixed-seed sample grid (a square number). */
  gridSize: z.union([z.literal(16), z.literal(36), z.literal(64)]).default(36)
})
export type RunConfig = z.infer<typeof RunConfigSchema>
export type RunConfigInput = z.input<typeof RunConfigSchema>

export const PRESETS = {
  'Quick sketch': { steps: 1000, batchSize: 32, model: { gChannels: 32, dChannels: 32 }, sampleEvery: 50 },
  Balanced: { steps: 5000, batchSize: 32, model: { gChannels: 64, dChannels: 64 }, augment: { xflip: true, translation: true } },
  Quality: {
    steps: 20000,
    batchSize: 64,
    model: { gChannels: 128, dChannels: 128 },
    loss: { type: 'hinge', r1Gamma: 1, r1Every: 4 },
    augment: { xflip: true, color: true, translation: true, cutout: true }
  }
} satisfies Record<string, Partial<RunConfigInput>>
export type PresetName = keyof typeof PRESETS

/** Human-readable one-liner for a zod error: "steps: must be at most 10000000". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'input'
      return `${where}: ${issue.message}`
    })
    .join('; ')
}
