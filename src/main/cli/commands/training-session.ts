import { join } from 'node:path'
import { toErrorShape } from '@shared/errors'
import type { TrainControl } from '../../trainer/events'
import { trainRun } from '../../trainer/train'
import { datasetsDir } from '../../util/home'
import { exitCodeFor, type CliIo } from '../io'
import { TrainProgressView } from '../progress'

/**
 * Runs the trainer in this process with a progress view. Ctrl-C (or SIGTERM) asks the loop to
 * stop: it writes a checkpoint and exits cleanly; a second Ctrl-C exits at once.
 */
export async function runTraining(opts: { runDir: string; io: CliIo; backendCacheFile?: string }): Promise<number> {
  const { io } = opts
  const control: TrainControl = { stop: false, pause: false }
  const view = new TrainProgressView(io)
  let started = false
  let interrupts = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1
    if (interrupts > 1) {
      view.stop()
      io.err('Interrupted again: exiting without a final checkpoint (the previous one is kept).')
      process.exit(130)
    }
    control.stop = true
    view.log(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping after this step and writing a checkpoint… (press Ctrl-C again to quit now)`)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const run = await trainRun({
      runDir: opts.runDir,
      datasetsDir: datasetsDir(),
      control,
      backendCacheFile: opts.backendCacheFile,
      emit: (e) => {
        if (e.type === 'progress') {
          if (!started) {
            started = true
            view.start(e.progress.step, e.progress.steps)
          }
          view.update(e.progress)
        } else if (e.type === 'log') {
          if (e.line.level !== 'info' || !io.tty) view.log(e.line.level === 'info' ? e.line.message : `${e.line.level}: ${e.line.message}`)
          else view.log(e.line.message)
        }
      }
    })
    view.stop()
    if (run.status === 'failed') {
      io.err(`Training failed: ${run.error?.message ?? 'unknown error'}`)
      io.out(`Run folder: ${opts.runDir}`)
      return 1
    }
    io.out(`Samples: ${join(opts.runDir, 'samples')}`)
    io.out(`Run folder: ${opts.runDir}`)
    return 0
  } catch (err) {
    view.stop()
    const e = toErrorShape(err)
    io.err(`Training failed: ${e.message}`)
    return exitCodeFor(e.code)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
