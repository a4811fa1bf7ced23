import { app, utilityProcess, type Details } from 'electron'
import { TRAINER_CHILD_ENV, isChildMessage } from '../trainer/child-messages'
import type { ChildExit, SpawnTrainer, TrainerLink } from './child-connection'
import { TailBuffer } from './trainer-spawn'
import { threadpoolEnv } from '../util/threadpool'

/**
 * Trainer children as Electron utility processes (the desktop app). The platform's reason for a
 * crash (`child-process-gone`: 'oom', 'crashed', 'killed', …) is passed on so the run's failure
 * says what happened.
 */
export function electronTrainerSpawner(entry: string): SpawnTrainer {
  let count = 0
  return () => {
    const serviceName = `GAN Studio trainer ${++count}`
    const child = utilityProcess.fork(entry, [], {
      serviceName,
      stdio: 'pipe',
      env: { ...threadpoolEnv(), ...process.env, [TRAINER_CHILD_ENV]: '1' }
    })
    const stderr = new TailBuffer(8192)
    child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk))
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString('utf8'))
      process.stderr.write(chunk)
    })
    let reason: string | undefined
    const onGone = (_event: unknown, details: Details): void => {
      if (details.type === 'Utility' && (details.serviceName === serviceName || details.name === serviceName)) reason = details.reason
    }
    app.on('child-process-gone', onGone)
    child.on('error', (type) => {
      reason ??= type === 'FatalError' ? 'fatal V8 error' : String(type)
    })

    const link: TrainerLink = {
      send: (message) => child.postMessage(message),
      onMessage: (listener) =>
        child.on('message', (message: unknown) => {
          if (isChildMessage(message)) listener(message)
        }),
      onExit: (listener) =>
        child.once('exit', (code) => {
          // child-process-gone can arrive just after exit; give it a moment.
          setTimeout(() => {
            app.off('child-process-gone', onGone)
            const exit: ChildExit = { code, signal: null, stderrTail: stderr.text(), ...(reason ? { reason } : {}) }
            listener(exit)
          }, 50)
        }),
      kill: () => {
        child.kill()
      }
    }
    return link
  }
}
