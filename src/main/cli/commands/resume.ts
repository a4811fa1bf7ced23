import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { configField } from '@shared/config-fields'
import { toErrorShape } from '@shared/errors'
import { printable } from '@shared/text'
import { readOrRebuildRun, writeRun } from '../../trainer/run/runs'
import { resumeStep } from '../../services/runs'
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
    // A damaged or missing run.json is rebuilt from the newest good checkpoint.
    runJson = await readOrRebuildRun(runDir, (message) => io.err(printable(message)))
  } catch (err) {
    throw new UsageError(printable(toErrorShape(err).message))
  }
  // Training continues from the newest good checkpoint, whatever run.json's step says.
  const from = await resumeStep(runDir)
  if (steps !== undefined && steps !== runJson.config.steps) {
    if (steps <= from) throw new UsageError(`--steps ${steps} is not above the step training would continue from (${from})`)
    runJson = await writeRun(runDir, { ...runJson, config: { ...runJson.config, steps } })
  }
  if (from >= runJson.config.steps) {
    io.out(`The run is already complete at step ${from}. Pass --steps <new total> to train further.`)
    return 0
  }
  return runTraining({ runDir, io, backendCacheFile: `${cacheDir()}/backends.json` })
}
