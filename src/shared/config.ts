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

export const ResolutionSchema = z.union([z.literal(32), z.literal(64), z.literal(128), z.literal(256)], {
  error: 'must be 32, 64, 128 or 256'
})
const int = (min: number, max: number) => z.number().int('must be a whole number').min(min).max(max)

/**
 * Every setting's bounds, default, title and help are written here once: the studio's settings
 * panel and the CLI's flags read them from this schema (see ./config-fields), and so does every
 * other check of a seed or a step count.
 */
export const SEED_MAX = 2 ** 31 - 1
export const SeedSchema = int(0, SEED_MAX)
export const StepsSchema = int(1, 10_000_000)

/** How source images become training pixels. Part of the dataset cache key. */
export const PreprocessSchema = z.object({
  resolution: ResolutionSchema.default(32).meta({
    title: 'Resolution',
    description: 'Width and height of the training images in pixels.'
  }),
  crop: z.enum(CROP_MODES).default('center').meta({
    title: 'Crop',
    description: 'How non-square images become square: cut to the centre, letterbox, or stretch.'
  }),
  /** CSS colour that transparency is flattened onto and that `pad` letterboxes with. */
  background: z.string().min(1).max(64).default('#ffffff').meta({
    title: 'Background',
    description: 'CSS colour that transparency is flattened onto and that letterboxing fills with.'
  })
})
export type Preprocess = z.infer<typeof PreprocessSchema>

/** Model families (src/main/trainer/model/families). Runs saved before families existed are `dcgan`. */
export const MODEL_ARCHS = ['dcgan', 'lite'] as const
export type ModelArch = (typeof MODEL_ARCHS)[number]

/** How the DCGAN generator doubles its maps (`model.gUpsample`), and how a run's summary names it (null: the original transposed convs). */
export const G_UPSAMPLES = ['transposed', 'nearest', 'nearest-rgb'] as const
export const G_UPSAMPLE_NOTES: Record<(typeof G_UPSAMPLES)[number], string | null> = { transposed: null, nearest: 'upsample + conv', 'nearest-rgb': 'upsample + conv to RGB' }

export const ModelSchema = z.object({
  arch: z.enum(MODEL_ARCHS).default('dcgan').meta({
    title: 'Model family',
    description:
      'The kind of network. DCGAN is quick per step, which buys the most in the same minutes up to 64 px; Lite (FastGAN-style) is slower per step and built for larger pictures. The presets pick the better one for your image size, and picking a family gives it its own recipe.'
  }),
  /** Minibatch standard deviation in the discriminator: lets it see how varied a batch is (against collapse). */
  mbstd: z.boolean().default(false).meta({
    title: 'Variety check',
    description: 'Lets the critic see how varied a batch is (minibatch standard deviation), so a generator that draws the same picture for every seed is caught early.'
  }),
  /** Normalisation in the generator: over each pixel's channels, or none. Either keeps one seed one image. */
  gNorm: z.enum(['channel', 'none']).default('channel').meta({
    title: 'Generator norm',
    description: 'Keeps the generator’s features in range. Both choices keep one seed one picture, whatever else is generated with it.'
  }),
  /**
   * How the DCGAN generator doubles its maps: a free 4×4 transposed convolution (the original
   * DCGAN, and what runs saved before this setting used), or nearest ×2 upsampling then a 3×3
   * convolution, which cannot draw a checkerboard and costs the same, at every step or only at the
   * last one (to RGB), where the checkerboard shows. The lite family always upsamples.
   */
  gUpsample: z.enum(G_UPSAMPLES).default('transposed').meta({
    title: 'Generator upsampling',
    description: 'How DCGAN’s generator enlarges its picture at each step. Upsample + convolution avoids the fine checkerboard speckle that transposed convolutions leave, at the same cost. Lite always upsamples.'
  }),
  /** Batch norm in the discriminator (not its first layer), over real and generated images separately. */
  dNorm: z.enum(['none', 'batch']).default('none').meta({
    title: 'Critic batch norm',
    description: 'Normalises the critic’s layers over groups of images. Steadies DCGAN at small sizes; generated pictures are never affected.'
  }),
  latentDim: int(8, 512).default(128).meta({
    title: 'Latent size',
    description: 'Length of the random “idea” each picture starts from. 128 works well; rarely worth changing.'
  }),
  /** Width of the generator's last hidden layer; earlier layers double it (capped at 512). */
  gChannels: int(8, 512).default(64).meta({
    title: 'Generator width',
    description: 'How much detail the generator can learn to draw. Wider is slower but can capture more.'
  }),
  dChannels: int(8, 512).default(64).meta({
    title: 'Discriminator width',
    description: 'How sharp the critic is. Keep it close to the generator width so neither side wins too easily.'
  })
})

export const OptimizerSchema = z.object({
  gLr: z.number().gt(0).max(0.1).default(0.0002).meta({
    title: 'Generator learning rate',
    description: 'How big each adjustment to the generator is. Too high and training turns chaotic; too low and it crawls.'
  }),
  dLr: z.number().gt(0).max(0.1).default(0.0002).meta({
    title: 'Discriminator learning rate',
    description: 'The same for the discriminator. Usually equal to the generator’s.'
  }),
  gBeta1: z.number().min(0).lt(1).default(0.5).meta({
    title: 'Generator momentum (β1)',
    description: 'How much each update remembers the previous ones. 0.5 is the usual GAN choice; 0 is also common.'
  }),
  gBeta2: z.number().min(0).lt(1).default(0.999).meta({
    title: 'Generator β2',
    description: 'How long a memory of update sizes to keep. 0.999 rarely needs changing.'
  }),
  dBeta1: z.number().min(0).lt(1).default(0.5).meta({
    title: 'Discriminator momentum (β1)',
    description: 'Momentum for the discriminator; usually the same as the generator’s.'
  }),
  dBeta2: z.number().min(0).lt(1).default(0.999).meta({
    title: 'Discriminator β2',
    description: 'Long-term memory of update sizes for the discriminator.'
  })
})

export const LossSchema = z.object({
  type: z.enum(LOSSES).default('nonsaturating').meta({
    title: 'Loss',
    description: 'How the networks score each other. The classic loss suits most runs; hinge is often calmer on larger models.'
  }),
  /** R1 gradient penalty weight on real images; 0 turns it off. */
  r1Gamma: z.number().min(0).max(1000).default(0).meta({
    title: 'R1 penalty',
    description: 'Stops the discriminator from becoming over-confident on real images, which keeps training stable. 0 turns it off.'
  }),
  /** Apply R1 every N discriminator steps (lazy regularisation). */
  r1Every: int(1, 64).default(4).meta({
    title: 'R1 every',
    description: 'Apply the R1 penalty only every few steps. It saves time with little effect on quality.'
  }),
  /**
   * Weight of the mode-seeking term (Mao et al. 2019, "Mode Seeking GANs"): the generator is
   * rewarded for giving different latents different images. 0 turns it off.
   */
  modeSeeking: z.number().min(0).max(10).default(0).meta({
    title: 'Variety push',
    description: 'Rewards the generator for making different pictures from different seeds, which keeps every seed from giving the same image early in a run. 0 turns it off.'
  })
})

export const AugmentSchema = z.object({
  xflip: z.boolean().default(true).meta({
    title: 'Mirror left–right',
    description: 'Flips images at random. Doubles the variety for most subjects; turn it off for text or one-sided subjects.'
  }),
  color: z.boolean().default(false).meta({
    title: 'Colour jitter',
    description: 'Nudges brightness, saturation and contrast at random. Helps small folders; skip it if exact colours matter.'
  }),
  translation: z.boolean().default(false).meta({
    title: 'Shift',
    description: 'Moves images by a few pixels at random, so the model doesn’t memorise exact positions.'
  }),
  cutout: z.boolean().default(false).meta({
    title: 'Cutout',
    description: 'Blanks a random square of each image. A strong remedy when the folder has only a few dozen images.'
  })
})

export const EmaSchema = z.object({
  enabled: z.boolean().default(true).meta({
    title: 'Smoothed generator (EMA)',
    description: 'Keeps a slowly-averaged copy of the generator. It usually makes cleaner, steadier pictures.'
  }),
  /** Per-step decay of the generator's moving average (ramped up over the first steps: min(decay, (1+t)/(10+t))). */
  decay: z.number().min(0).lt(1).default(0.999).meta({
    title: 'EMA decay',
    description: 'How slowly the smoothed copy follows. Closer to 1 is smoother but lags behind more.'
  })
})

export const QualitySchema = z.object({
  /** Measure SWD, KID, variety and memorisation every N steps (and at the last step); 0 turns it off. */
  every: int(0, 1_000_000).default(500).meta({
    title: 'Measure quality every',
    description: 'How often to score the samples against your images (SWD, variety, copies) for the Quality chart; about a second each time. 0 turns it off.'
  }),
  /** Generated images (fixed seeds) scored each time. */
  images: int(8, 256).default(64)
})

export const RunConfigSchema = z.object({
  name: z.string().trim().min(1).max(120).optional().meta({
    title: 'Name',
    description: 'What this run is called in the library. You can rename it later.'
  }),
  /** Absolute path of the image folder the dataset was imported from. */
  source: z.string().min(1),
  preprocess: PreprocessSchema.prefault({}),
  steps: StepsSchema.default(2000).meta({
    title: 'Steps',
    description: 'How long to train. Each step shows the networks one batch of images. More steps give better pictures and take longer.'
  }),
  batchSize: int(1, 256).default(32).meta({
    title: 'Batch size',
    description: 'Images per step. Bigger batches learn more steadily but need more memory and time per step.'
  }),
  backend: z.enum(BACKEND_REQUESTS).default('auto').meta({
    title: 'Engine',
    description: 'Where training runs; auto measures the engines that work here and picks the fastest.'
  }),
  seed: SeedSchema.default(1).meta({
    title: 'Seed',
    description: 'The starting point for all randomness. The same seed and settings give the same run.'
  }),
  sampleEvery: int(1, 1_000_000).default(100).meta({
    title: 'Sample every',
    description: 'How often to save a grid of sample images, so you can watch the pictures improve.'
  }),
  checkpointEvery: int(1, 1_000_000).default(500).meta({
    title: 'Save every',
    description: 'How often to save the whole model. A stopped or crashed run resumes from the last save.'
  }),
  /** Log metrics every N steps (reading losses back costs a GPU→CPU sync, so not every step). */
  logEvery: int(1, 10_000).default(10).meta({
    title: 'Chart every',
    description: 'How often to record the losses for the charts. Recording slows training a little.'
  }),
  model: ModelSchema.prefault({}),
  optimizer: OptimizerSchema.prefault({}),
  loss: LossSchema.prefault({}),
  augment: AugmentSchema.prefault({}),
  ema: EmaSchema.prefault({}),
  quality: QualitySchema.prefault({}),
  /** Number of images in the fixed-seed sample grid (a square number). */
  gridSize: z.union([z.literal(16), z.literal(36), z.literal(64)]).default(36).meta({
    title: 'Sample grid',
    description: 'How many pictures each sample grid shows. They always use the same random seeds, so you can compare grids over time.'
  })
})
export type RunConfig = z.infer<typeof RunConfigSchema>
export type RunConfigInput = z.input<typeof RunConfigSchema>

/** The New run presets (src/shared/recipes.ts says what each trains with at each size). */
export const PRESET_NAMES = ['Quick sketch', 'Balanced', 'Quality'] as const
export type PresetName = (typeof PRESET_NAMES)[number]

/** Human-readable one-liner for a zod error: "steps: must be at most 10000000". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'input'
      return `${where}: ${issue.message}`
    })
    .join('; ')
}
