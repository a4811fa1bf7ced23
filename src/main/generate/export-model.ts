import { promises as fsp } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { StudioError } from '@shared/errors'
import { writeFileAtomic } from '../util/fs'
import { APP_VERSION } from '../util/version'
import { latentForSeed } from '../trainer/model/rng'
import { loadCheckpoint } from '../trainer/run/checkpoint'
import { readRun } from '../trainer/run/runs'
import { ensureBackend, generatorWeightsFrom, type GeneratorSource } from './generator'
import { serializeLayersModel } from './layers-model'
import { modelPageHtml } from './page'

export interface ExportModelOptions extends GeneratorSource {
  /** Output folder; default `<run>/exports/model-<checkpoint>/`. Existing files of the same names are replaced. */
  out?: string
  /** Checked before anything is written: when aborted, fails with code `cancelled`. */
  signal?: AbortSignal
}

export interface ExportModelResult {
  dir: string
  /** Names of the files written inside `dir`. */
  files: string[]
  checkpoint: string
  step: number
}

const requireFromHere = createRequire(import.meta.url)

/** tfjs' browser bundle, inlined into the page so it works offline. */
export async function tfjsBrowserBundle(): Promise<string> {
  let path: string
  try {
    path = requireFromHere.resolve('@tensorflow/tfjs/dist/tf.min.js')
  } catch {
    throw new StudioError('io', 'The TensorFlow.js browser bundle (@tensorflow/tfjs/dist/tf.min.js) is missing; reinstall GAN Studio.')
  }
  return fsp.readFile(path, 'utf8')
}

export function defaultModelDir(runDir: string, checkpoint: string): string {
  return join(runDir, 'exports', `model-${checkpoint}`)
}

function readme(runName: string, runId: string, step: number, latentDim: number, resolution: number): string {
  return `GAN Studio — exported generator
Run: ${runName} (${runId}), checkpoint step ${step}

index.html   Open it in any browser (works offline, from a file): type a seed, press Generate.
model.json   A TensorFlow.js layers model (weights in weights.bin), the run's EMA generator.
weights.bin
latent.js    latentForSeed(seed, dim): the latent vector for a seed, as GAN Studio computes it.

Using the model elsewhere:
  const model = await tf.loadLayersModel('path/to/model.json')
  const z = latentForSeed(seed, ${latentDim})          // Float32Array(${latentDim})
  // Truncation psi (optional): z' = psi * z  (the prior's mean is 0; psi = 1 is the image as trained)
  const image = model.predict(tf.tensor2d(z, [1, ${latentDim}]))   // [1, ${resolution}, ${resolution}, 3] in [-1, 1]
  // pixel = round((value + 1) * 127.5), clamped to 0..255
`
}

/**
 * Exports a run's generator (the EMA copy by default): a TensorFlow.js layers model (model.json +
 * weights.bin), the latent function as latent.js, a README, and `index.html` — a self-contained
 * offline page (tfjs and the model inlined) with a "Seed" input, a "Generate" button and the
 * "Generated image", which reproduces the studio's image for a seed.
 */
export async function exportModel(runDir: string, opts: ExportModelOptions = {}): Promise<ExportModelResult> {
  const run = await readRun(runDir)
  const ckpt = await loadCheckpoint(runDir, opts.checkpoint)
  const useEma = opts.useEma ?? true
  const { family, spec, values } = generatorWeightsFrom(ckpt, useEma)
  await ensureBackend(opts)
  const step = ckpt.manifest.step
  const dir = opts.out ?? defaultModelDir(runDir, ckpt.name)

  const model = family.exportGenerator(spec, values)
  try {
    const latentSource = latentForSeed.toString()
    const metadata = {
      ganStudio: {
        appVersion: APP_VERSION,
        runId: run.id,
        runName: run.name,
        checkpoint: ckpt.name,
        step,
        generator: useEma ? 'ema' : 'raw',
        resolution: spec.resolution,
        latentDim: spec.latentDim,
        output: 'NHWC RGB in [-1, 1]; pixel = round((v + 1) * 127.5)',
        truncation: "z' = psi * z (psi in [0, 2]; 1 = as trained)",
        latent: 'latentForSeed(seed, latentDim) in latent.js'
      }
    }
    const saved = await serializeLayersModel(model, metadata)
    const html = modelPageHtml({
      title: run.name,
      runId: run.id,
      step,
      resolution: spec.resolution,
      latentDim: spec.latentDim,
      latentSource,
      tfjsSource: await tfjsBrowserBundle(),
      modelTopology: saved.artifacts.modelTopology,
      weightSpecs: saved.artifacts.weightSpecs,
      weights: saved.weights,
      appVersion: APP_VERSION
    })
    const files: Record<string, string | Uint8Array> = {
      'model.json': JSON.stringify(saved.modelJson),
      'weights.bin': saved.weights,
      'latent.js': `// The latent vector for a seed, exactly as GAN Studio computes it.\nvar __name = function (fn) { return fn; };\n${latentSource}\nif (typeof module !== 'undefined') module.exports = { latentForSeed };\n`,
      'index.html': html,
      'README.txt': readme(run.name, run.id, step, spec.latentDim, spec.resolution)
    }
    if (opts.signal?.aborted) throw new StudioError('cancelled', 'The export was cancelled.')
    for (const [name, data] of Object.entries(files)) await writeFileAtomic(join(dir, name), data)
    return { dir, files: Object.keys(files), checkpoint: ckpt.name, step }
  } finally {
    model.dispose()
  }
}
