import { fork } from 'node:child_process'
import { TRAINER_CHILD_ENV, isChildMessage } from '../trainer/child-messages'
import type { ChildExit, SpawnTrainer, TrainerLink } from './child-connection'
import { threadpoolEnv } from '../util/threadpool'

/**
 * Trainer children as plain Node processes (`gan-studio serve`, the CLI, tests): the same
 * `out/main/trainer-process.js` the desktop app runs as an Electron utility process.
 */
export function nodeTrainerSpawner(options: { entry: string; execArgv?: string[]; env?: NodeJS.ProcessEnv }): SpawnTrainer {
  return () => {
    const child = fork(options.entry, [], {
      env: { ...threadpoolEnv(), ...process.env, ...options.env, [TRAINER_CHILD_ENV]: '1' },
      execArgv: options.execArgv ?? [],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced'
    })
    const stderr = new TailBuffer(8192)
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString('utf8'))
      process.stderr.write(chunk)
    })
    const link: TrainerLink = {
      send: (message) => {
        if (child.connected) child.send(message)
      },
      onMessage: (listener) =>
        child.on('message', (message: unknown) => {
          if (isChildMessage(message)) listener(message)
        }),
      onExit: (listener) => {
        let reported = false
        const report = (exit: ChildExit): void => {
          if (reported) return
          reported = true
          listener(exit)
        }
        child.on('exit', (code, signal) => report({ code, signal, stderrTail: stderr.text() }))
        child.on('error', (err) => report({ code: null, signal: null, reason: err.message, stderrTail: stderr.text() }))
      },
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
    }
    return link
  }
}

/** Keeps the last `max` characters written (a crashed child's last words). */
export class TailBuffer {
  private buf = ''
  constructor(private readonly max: number) {}
  push(text: string): void {
    this.buf = (this.buf + text).slice(-this.max)
  }
  text(): string {
    return this.buf
  }
}

export { locateBuilt } from '../util/locate'
