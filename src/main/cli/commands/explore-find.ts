import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SEED_MAX } from '@shared/config'
import { FIND_DEFAULT_STARTS, FIND_DEFAULT_STEPS, FIND_MAX_STARTS, FIND_MAX_STEPS, findImage, type FindPhase } from '../../generate/explore/find'
import type { FindTarget } from '../../generate/explore/find-target'
import { addToCollection } from '../../generate/favorites'
import { withPngText } from '../../generate/png-text'
import { readRun } from '../../trainer/run/runs'
import { writeFileAtomic } from '../../util/fs'
import { datasetsDir } from '../../util/home'
import { backendFlag, parseIntFlag, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'

export const FIND_USAGE =
  'gan-studio explore find <runDir> (<image> | --dataset-image N) [--steps N] [--starts N] [--seed N] [--checkpoint step-NNNNNN] [--out match.png] [--collection name] [--json]'

const PHASE: Record<FindPhase, string> = { screen: 'screening random latents', explore: 'optimising several starts', refine: 'refining the best', done: 'done' }

/**
 * `explore find`: the latent whose image is closest to a picture ("find my image"). Prints progress
 * and the match's measures and verdict; `--out` writes the match as a PNG carrying its latent (so
 * `explore variations --from-png` can vary it), `--collection` keeps the latent in a collection,
 * `--json` prints the result (latent included) as one JSON object instead.
 */
export async function findCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('explore find', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'dataset-image': { type: 'string' },
        steps: { type: 'string' },
        starts: { type: 'string' },
        seed: { type: 'string' },
        checkpoint: { type: 'string' },
        out: { type: 'string' },
        collection: { type: 'string' },
        json: { type: 'boolean' },
        backend: { type: 'string' }
      }
    })
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError(`find needs a run folder and an image. Usage: ${FIND_USAGE}`)
    const datasetImage = parseIntFlag('dataset-image', values['dataset-image'], 0, 100_000_000)
    if ((positionals.length === 2) === (datasetImage !== undefined)) throw new UsageError('give either an image file or --dataset-image N (the image to find)')
    const steps = parseIntFlag('steps', values.steps, 1, FIND_MAX_STEPS) ?? FIND_DEFAULT_STEPS
    const starts = parseIntFlag('starts', values.starts, 1, FIND_MAX_STARTS) ?? FIND_DEFAULT_STARTS
    const seed = parseIntFlag('seed', values.seed, 0, SEED_MAX) ?? 0
    if (values.collection !== undefined && !values.collection.trim()) throw new UsageError('--collection needs a name')
    const runDir = await resolveRunDir(positionals[0]!)
    const target: FindTarget = datasetImage !== undefined ? { datasetImage, datasetsDir: datasetsDir() } : { file: resolve(positionals[1]!) }
    const json = values.json === true

    let lastLine = 0
    let lastPhase: FindPhase | null = null
    const r = await findImage(runDir, {
      ...backendFlag(values.backend),
      target,
      steps,
      starts,
      seed,
      checkpoint: values.checkpoint,
      onProgress: (p) => {
        if (json || p.phase === 'done') return
        const now = Date.now()
        if (p.phase === lastPhase && now - lastLine < 2000) return
        lastLine = now
        lastPhase = p.phase
        io.out(`Finding: step ${p.done}/${p.total}, ${PHASE[p.phase]}${p.loss !== null ? `, loss ${p.loss.toFixed(4)}` : ''}`)
      }
    })

    const latent = Array.from(r.latent)
    let out: string | null = null
    if (values.out !== undefined) {
      out = resolve(values.out)
      const run = await readRun(runDir)
      await writeFileAtomic(
        out,
        withPngText(r.png, {
          Software: 'GAN Studio',
          Title: `${run.name} · found: ${r.targetLabel}`,
          Comment: `Found by GAN Studio in run ${run.id} (checkpoint ${r.checkpoint}, step ${r.step}) for ${r.targetLabel}: ${r.summary}`,
          checkpoint: r.checkpoint,
          step: String(r.step),
          psi: '1',
          latent: latent.join(',')
        })
      )
    }
    let collection: string | null = null
    if (values.collection !== undefined) {
      const run = await readRun(runDir)
      const file = await addToCollection(runDir, values.collection, [{ latent, label: `found: ${r.targetLabel}`.slice(0, 200) }], { latentDim: run.config.model.latentDim, create: true })
      collection = file.collections.find((c) => c.name.localeCompare(values.collection!.trim(), undefined, { sensitivity: 'accent' }) === 0)?.name ?? values.collection.trim()
    }
    if (json) {
      const { png: _png, targetPng: _target, latent: _latent, ...rest } = r
      void _png
      void _target
      void _latent
      io.out(JSON.stringify({ ...rest, latent, out, collection }))
      return 0
    }
    io.out(`${r.summary}`)
    io.out(
      `Looked for ${r.targetLabel} with ${r.starts} start${r.starts === 1 ? '' : 's'} and ${r.steps} steps in ${(r.ms / 1000).toFixed(1)} s (checkpoint ${r.checkpoint}): ` +
        `PSNR ${r.psnr.toFixed(1)} dB, multi-scale distance ${r.distance.toFixed(3)} (a random image: ${r.baseline.toFixed(3)}).`
    )
    if (out) io.out(`Wrote the match to ${out} (its latent is in the PNG text: vary it with explore variations --from-png).`)
    if (collection) io.out(`Kept the latent in the collection "${collection}".`)
    if (!out && !collection) io.out('Keep the latent with --out match.png, --collection <name> or --json.')
    return 0
  })
}
