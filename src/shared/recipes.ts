import { MODEL_ARCHS, PreprocessSchema, RunConfigSchema, type ModelArch, type PresetName, type Resolution, type RunConfigInput } from './config'

/**
 * What a new run trains with when the artist has only picked a folder and a size: the model
 * family, its widths and normalisation, the loss and the augmentation (optimiser, batch and EMA
 * are the schema's defaults: Adam 2e-4, β 0.5/0.999, batch 32, EMA 0.999). Saved runs keep what they were
 * created with (run.json holds the whole config); the schema's own defaults stay those of the
 * first version so that runs written before a setting existed load unchanged.
 *
 * Chosen by training each candidate for the same wall-clock on the same folders (see the README's
 * "Recipes" section for what was compared and how):
 * - 32 and 64 px: a narrow DCGAN (G 32 at full size, doubling towards 4×4; D 32, doubling; z 64)
 *   whose generator upsamples then convolves (no checkerboard, same cost as transposed convs; at
 *   32 px at its last step only),
 *   with batch norm in the discriminator, per-pixel channel norm in the generator, minibatch
 *   standard deviation, the mode-seeking term against collapse, an EMA of the generator, and
 *   flips + translations. On a CPU the cheap step buys several times the steps of a wider model
 *   or of the lite family in the same minutes: at 64 px five minutes gave the lite family 419
 *   steps of colour blobs, this recipe ~1,400 steps of outlined shapes.
 * - 128 px and up: the `lite` family (upsample + conv; skip-layer excitation; a discriminator
 *   with a reconstruction task), hinge loss, a light R1 penalty, minibatch standard deviation,
 *   and translations + cutout.
 * - Small folders (fewer than SMALL_FOLDER images) also get cutout: more augmentation keeps the
 *   discriminator from memorising a few hundred images.
 */
export type RecipeSettings = Required<Pick<RunConfigInput, 'model' | 'loss' | 'augment'>>

export const SMALL_FOLDER = 300

/** The family a new run gets at a size when none was chosen. */
export const defaultArch = (resolution: Resolution): ModelArch => (resolution <= 64 ? 'dcgan' : 'lite')

/** The recipe for a size and folder; `arch` picks a family's own recipe instead of the size's default family. */
export function recommendedSettings(resolution: Resolution, imageCount: number | null = null, arch: ModelArch = defaultArch(resolution)): RecipeSettings {
  const small = imageCount !== null && imageCount < SMALL_FOLDER
  if (arch === 'dcgan') {
    return {
      // At 32 px transposed convs in the hidden steps keep the detail pixel art needs (SWD 57 vs 64
      // with every step upsampling); the last step upsamples, so no pixel checkerboard.
      model: { arch: 'dcgan', latentDim: 64, gChannels: 32, dChannels: 32, gNorm: 'channel', dNorm: 'batch', mbstd: true, gUpsample: resolution <= 32 ? 'nearest-rgb' : 'nearest' },
      loss: { type: 'nonsaturating', r1Gamma: 0, r1Every: 4, modeSeeking: 1 },
      augment: { xflip: true, color: false, translation: true, cutout: small }
    }
  }
  return {
    model: { arch: 'lite', latentDim: 64, gChannels: resolution >= 128 ? 8 : 16, dChannels: resolution >= 128 ? 16 : 32, gNorm: 'none', dNorm: 'none', mbstd: true },
    loss: { type: 'hinge', r1Gamma: 0.2, r1Every: 4 },
    augment: { xflip: true, color: false, translation: true, cutout: true }
  }
}

/** The New run presets: how long to train, and (for Quality) wider networks. */
export const PRESET_STEPS: Record<PresetName, number> = { 'Quick sketch': 1000, Balanced: 5000, Quality: 20000 }

/** A preset's settings at a resolution (and folder size, when known), for the size's family or `arch`. */
export function presetSettings(name: PresetName, resolution: Resolution, imageCount: number | null = null, arch?: ModelArch): RecipeSettings & { steps: number } {
  const base = recommendedSettings(resolution, imageCount, arch)
  if (name !== 'Quality') return { ...base, steps: PRESET_STEPS[name] }
  const model = base.model
  return {
    ...base,
    steps: PRESET_STEPS[name],
    model: { ...model, gChannels: (model.gChannels ?? 32) * 2, dChannels: (model.dChannels ?? 32) * 2 }
  }
}

type Plain = Record<string, unknown>
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `over` on top of `base`, object by object (arrays and values replace). */
export function mergeSettings<T extends Plain>(base: T, over: Plain): T {
  const out: Plain = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue
    out[k] = isPlain(v) && isPlain(out[k]) ? mergeSettings(out[k] as Plain, v) : v
  }
  return out as T
}

/**
 * A new run's config: the recommended settings for its resolution, folder size and family (the
 * chosen one, or the size's), under what the person chose (a config file, flags, the form),
 * validated by the schema.
 */
export function newRunConfig(chosen: RunConfigInput, imageCount: number | null = null): ReturnType<typeof RunConfigSchema.safeParse> {
  const preprocess = PreprocessSchema.safeParse(chosen.preprocess ?? {})
  // An invalid size or family is reported by the parse below; the recipe then does not matter.
  const resolution: Resolution = preprocess.success ? preprocess.data.resolution : 32
  const arch = chosen.model?.arch
  const known = MODEL_ARCHS.find((a) => a === arch)
  return RunConfigSchema.safeParse(mergeSettings(recommendedSettings(resolution, imageCount, known) as Plain, chosen as Plain))
}
