import { spawn, fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ModelArch } from '@shared/config'
import { snapshot, windowLoad, type WindowLoad } from './load'
import type { TrainCase, WindowResult } from './train-bench'

/**
 * The two engines of `--torch` as long-lived processes that wait between timed windows: ours (a
 * child running the trainer's runner, entry `--engine` in index.ts) and the PyTorch twin
 * (torch_twin.py). Set-up and warm-up happen once; then the bench alternates windows between
 * them, sampling the machine's load at each window's start and end.
 */

export interface Window extends Pick<WindowResult, 'steps' | 'seconds' | 'msPerStep' | 'imagesPerSec' | 'cpuMsPerStep'> {
  load: WindowLoad
}

export interface Engine {
  readonly name: string
  /** What it runs on (backend and threads; torch version, threads and BLAS). */
  readonly detail: string
  measure(seconds: number, minSteps: number): Promise<Window>
  close(): Promise<void>
}

/** Messages of the `--engine` child. */
export type EngineMessage =
  | { type: 'ready'; detail: string }
  | { type: 'start' }
  | { type: 'result'; result: WindowResult }
  | { type: 'error'; error: string }

export class EngineError extends Error {}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('Warning: max'))
      .at(-1) ?? ''
  )
}

/** Our engine: `script --engine <case>` forked (tsx's loader travels in execArgv). */
export async function startOurs(script: string, c: TrainCase): Promise<Engine> {
  const child = fork(script, ['--engine', JSON.stringify(c)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const queue: EngineMessage[] = []
  let waiter: ((m: EngineMessage) => void) | null = null
  let exited: string | null = null
  const push = (m: EngineMessage) => {
    if (waiter) {
      const w = waiter
      waiter = null
      w(m)
    } else queue.push(m)
  }
  child.on('message', (m) => push(m as EngineMessage))
  child.on('exit', (code, signal) => {
    exited = `our engine ${signal ? `was killed (${signal})` : `exited with code ${code}`}${lastLine(stderr) ? `: ${lastLine(stderr)}` : ''}`
    push({ type: 'error', error: exited })
  })
  const next = (): Promise<EngineMessage> => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => (waiter = r)))
  const expect = async <T extends EngineMessage['type']>(type: T): Promise<Extract<EngineMessage, { type: T }>> => {
    const m = await next()
    if (m.type === 'error') throw new EngineError(m.error)
    if (m.type !== type) throw new EngineError(`our engine sent ${m.type} where ${type} was expected`)
    return m as Extract<EngineMessage, { type: T }>
  }
  const ready = await expect('ready')
  return {
    name: 'ours',
    detail: ready.detail,
    async measure(seconds, minSteps) {
      if (exited) throw new EngineError(exited)
      child.send({ type: 'measure', seconds, minSteps })
      await expect('start')
      const a = snapshot()
      const { result } = await expect('result')
      const b = snapshot()
      return { ...result, load: windowLoad(a, b, [child.pid!], [process.pid]) }
    },
    close: () => stop(child)
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill()
  })
}

export interface TorchCase {
  arch: ModelArch
  resolution: number
  batch: number
  latentDim: number
  gChannels: number
  dChannels: number
  threads: number
  /** OpenBLAS threads under each torch thread; 0 leaves OpenBLAS's default. */
  blasThreads: number
  warmupSteps: number
}

export function torchTwinScript(): string | null {
  const file = join(dirname(fileURLToPath(import.meta.url)), 'torch_twin.py')
  return existsSync(file) ? file : null
}

export function defaultPython(): string {
  return process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3')
}

/** Null when `python` can import torch, else a sentence saying why not and what to install. */
export function torchProblem(python: string): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', 'import torch'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', (err) => resolve(`${python} cannot be started (${err.message}); install python3 and python3-torch, or pass --python`))
    child.on('close', (code) =>
      resolve(code === 0 ? null : `${python} cannot import torch (${lastLine(stderr) || `exit ${code}`}); on Debian/Ubuntu: apt-get install -y python3-torch libopenblas0-pthread`)
    )
  })
}

/** The PyTorch twin, or a sentence saying why it cannot run here (python or torch missing). */
export async function startTorch(python: string, c: TorchCase): Promise<Engine> {
  const script = torchTwinScript()
  if (!script) throw new EngineError('torch_twin.py was not found beside the bench')
  const args = [
    script,
    ...['--arch', c.arch, '--resolution', String(c.resolution), '--batch', String(c.batch), '--latent', String(c.latentDim)],
    ...['--g-channels', String(c.gChannels), '--d-channels', String(c.dChannels), '--threads', String(c.threads), '--blas-threads', String(c.blasThreads), '--warmup', String(c.warmupSteps)]
  ]
  const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const lines = createInterface({ input: child.stdout })
  const queue: Record<string, unknown>[] = []
  let waiter: ((m: Record<string, unknown>) => void) | null = null
  let failure: string | null = null
  const push = (m: Record<string, unknown>) => {
    if (waiter) {
      const w = waiter
      waiter = null
      w(m)
    } else queue.push(m)
  }
  lines.on('line', (line) => {
    if (!line.trim().startsWith('{')) return
    try {
      push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // not ours
    }
  })
  child.on('error', (err) => {
    failure = `could not start ${python}: ${err.message}`
    push({ error: failure })
  })
  child.on('close', (code) => {
    failure ??= `${python} ${script} exited with code ${code}${lastLine(stderr) ? `: ${lastLine(stderr)}` : ''}`
    push({ error: failure })
  })
  const next = async (): Promise<Record<string, unknown>> => {
    const m = queue.length ? queue.shift()! : await new Promise<Record<string, unknown>>((r) => (waiter = r))
    if (typeof m.error === 'string') throw new EngineError(m.error)
    return m
  }
  const ready = (await next()).ready as { torch: string; threads: number; blas: string; blasThreads?: string } | undefined
  if (!ready) throw new EngineError('the PyTorch twin did not report ready')
  return {
    name: 'PyTorch',
    detail: `PyTorch ${ready.torch}, ${ready.threads} thread${ready.threads === 1 ? '' : 's'}, BLAS: ${ready.blas}, OpenBLAS threads per torch thread: ${ready.blasThreads ?? 'default'}`,
    async measure(seconds, minSteps) {
      if (failure) throw new EngineError(failure)
      child.stdin.write(`measure ${seconds} ${minSteps}\n`)
      const start = await next()
      if (start.event !== 'start') throw new EngineError('the PyTorch twin did not start a window')
      const a = snapshot()
      const r = (await next()) as unknown as WindowResult
      const b = snapshot()
      return { steps: r.steps, seconds: r.seconds, msPerStep: r.msPerStep, imagesPerSec: r.imagesPerSec, cpuMsPerStep: r.cpuMsPerStep, load: windowLoad(a, b, [child.pid!], [process.pid]) }
    },
    async close() {
      if (child.exitCode === null) child.stdin.end('quit\n')
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        const t = setTimeout(() => child.kill(), 5000)
        child.once('close', () => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }
}
