import { join } from 'node:path'
import type { RunConfigInput } from '@shared/config'
import { parseArgs } from 'node:util'
import { writeDemoDataset } from '../../trainer/data/demo'
import { createRun } from '../../trainer/run/runs'
import { cacheDir, runsDir, studioHome } from '../../util/home'
import { parseIntFlag, type CliIo } from '../io'
import { importForTraining, printDatasetSummary, validConfig } from './train'
import { runTraining } from './training-session'

/** `npm run demo`: generates the built-in demo images and trains a small 32 px model on them. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { steps: { type: 'string' }, backend: { type: 'string' } } })
  const steps = parseIntFlag('steps', values.steps, 1, 1_000_000) ?? 600
  const source = join(studioHome(), 'demo-images')
  await writeDemoDataset(source)
  io.out(`Demo images: ${source}`)
  const config = validConfig({
    name: 'Demo',
    source,
    preprocess: { resolution: 32 },
    steps,
    batchSize: 32,
    backend: (values.backend ?? 'auto') as RunConfigInput['backend'],
    sampleEvery: 50,
    checkpointEvery: 100
  }, null)
  const dataset = await importForTraining(config, io)
  printDatasetSummary(dataset, io)
  const { dir } = await createRun({ runsDir: runsDir(), config, dataset })
  io.out(`Training ${steps} steps. Watch the sample grids appear in ${join(dir, 'samples')}`)
  return runTraining({ runDir: dir, io, backendCacheFile: `${cacheDir()}/backends.json` })
}
