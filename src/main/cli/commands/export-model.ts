import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { exportModel } from '../../generate/export-model'
import { backendFlag, resolveRunDir, runCommand, UsageError, type CommandIo } from '../io'

export const EXPORT_USAGE = 'gan-studio export-model <runDir> [--out dir] [--checkpoint step-NNNNNN]'

/** `gan-studio export-model`: the EMA generator as a tfjs layers model plus an offline HTML page. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  return runCommand('export-model', io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { out: { type: 'string' }, checkpoint: { type: 'string' }, backend: { type: 'string' } }
    })
    if (positionals.length !== 1) throw new UsageError(`export-model needs one run folder. Usage: ${EXPORT_USAGE}`)
    const backend = backendFlag(values.backend ?? 'cpu')
    const runDir = await resolveRunDir(positionals[0]!)
    const result = await exportModel(runDir, { ...backend, checkpoint: values.checkpoint, out: values.out !== undefined ? resolve(values.out) : undefined })
    io.out(`Exported the generator (step ${result.step}) to ${result.dir}`)
    io.out(`Open ${join(result.dir, 'index.html')} in a browser to make images offline; model.json + weights.bin load with tf.loadLayersModel.`)
    return 0
  })
}
