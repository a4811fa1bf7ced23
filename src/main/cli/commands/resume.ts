import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { configField } from '@shared/config-fields'
import { toErrorShape } from '@shared/errors'
import { readRun, writeRun } from '../../trainer/run/runs'
import { cacheDir } from '../../util/home'
import { parseSettingFlag, UsageError, type CliIo } from '../io'
import { runTraining } from './training-session'

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { steps: { type: 'string' } } })
  if (positionals.length !== 1) throw new UsageError('Usage: gan-studio resume <runDir> [--steps <new total>]')
  const runDir = resolve(positionals[0]!)
  const steps = values.steps === undefined ? undefined : (parseSettingFlag('steps', values.steps, configField('steps')) as number)
  let runJson
  try {
    runJson = await readRun(runDir)
  } catch (err) {
    throw new UsageError(toErrorShape(err).message)
  }
  if (steps !== undefined && steps !== runJson.config.steps) {
    if (steps < runJson.step) throw new UsageError(`--steps ${steps} is below the run's current step (${runJson.step})`)
    runJson = await writeRun(runDir, { ...runJson, config: { ...runJson.config, steps } })
  }
  if (runJson.step >= runJson.config.steps && runJson.status === 'completed') {
    io.out(`The run is already complete at step ${runJson.step}. Pass --steps <new total> to train further.`)
    return 0
  }
  return runTraining({ runDir, io, backendCacheFile: `${cacheDir()}/backends.json` })
}
