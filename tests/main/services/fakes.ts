import type { RunJson } from '@shared/runs'
import type { EventName, Events } from '@shared/contract'
import type { ChildExit, SpawnTrainer, TrainerLink } from '../../../src/main/services/child-connection'
import type { RunStore } from '../../../src/main/services/trainer-host'
import type { ChildMessage, HostMessage } from '../../../src/main/trainer/child-messages'
import { serveTrainer, type TrainerDeps } from '../../../src/main/trainer/process'

/** A scripted trainer child: the test plays the child's side by hand. */
export class FakeChild implements TrainerLink {
  readonly sent: HostMessage[] = []
  killed = false
  exited = false
  private readonly messageListeners: ((m: ChildMessage) => void)[] = []
  private readonly exitListeners: ((e: ChildExit) => void)[] = []

  send(message: HostMessage): void {
    if (this.exited) throw new Error('channel closed')
    this.sent.push(message)
    if (message.type === 'exit') queueMicrotask(() => this.exit({ code: 0, signal: null }))
  }
  onMessage(listener: (m: ChildMessage) => void): void {
    this.messageListeners.push(listener)
  }
  onExit(listener: (e: ChildExit) => void): void {
    this.exitListeners.push(listener)
  }
  kill(): void {
    this.killed = true
    this.exit({ code: null, signal: 'SIGKILL' })
  }

  /** The child says something. */
  post(message: ChildMessage): void {
    for (const l of this.messageListeners) l(message)
  }
  exit(exit: ChildExit): void {
    if (this.exited) return
    this.exited = true
    for (const l of this.exitListeners) l(exit)
  }
  get jobId(): string {
    const job = this.sent.find((m) => m.type === 'job')
    if (!job || job.type !== 'job') throw new Error('no job sent yet')
    return job.jobId
  }
  get job(): Extract<HostMessage, { type: 'job' }> | undefined {
    return this.sent.find((m): m is Extract<HostMessage, { type: 'job' }> => m.type === 'job')
  }
  controls(): Extract<HostMessage, { type: 'control' }>[] {
    return this.sent.filter((m): m is Extract<HostMessage, { type: 'control' }> => m.type === 'control')
  }
}

export function fakeSpawner(): { spawn: SpawnTrainer; children: FakeChild[] } {
  const children: FakeChild[] = []
  return {
    children,
    spawn: () => {
      const child = new FakeChild()
      children.push(child)
      return child
    }
  }
}

/**
 * A trainer child running the real child code (src/main/trainer/process.ts) in this process, over
 * an in-memory port that delivers asynchronously and structured-clones like real IPC.
 */
export function inProcessSpawner(deps: Partial<TrainerDeps>): { spawn: SpawnTrainer; links: TrainerLink[] } {
  const links: TrainerLink[] = []
  return {
    links,
    spawn: () => {
      const toHost: ((m: ChildMessage) => void)[] = []
      const toChild: ((m: HostMessage) => void)[] = []
      const onExit: ((e: ChildExit) => void)[] = []
      let alive = true
      const exit = (e: ChildExit): void => {
        if (!alive) return
        alive = false
        for (const l of onExit) l(e)
      }
      serveTrainer(
        {
          postMessage: (m) => {
            const copy = structuredClone(m)
            queueMicrotask(() => alive && toHost.forEach((l) => l(copy)))
          },
          onMessage: (l) => toChild.push(l)
        },
        { deps, onExit: () => queueMicrotask(() => exit({ code: 0, signal: null })) }
      )
      const link: TrainerLink = {
        send: (m) => {
          const copy = structuredClone(m)
          queueMicrotask(() => alive && toChild.forEach((l) => l(copy)))
        },
        onMessage: (l) => toHost.push(l),
        onExit: (l) => onExit.push(l),
        kill: () => exit({ code: null, signal: 'SIGKILL' })
      }
      links.push(link)
      return link
    }
  }
}

/** Records events in order. */
export function recorder(): {
  emit: <E extends EventName>(name: E, payload: Events[E]) => void
  events: { name: EventName; payload: unknown }[]
  of: <E extends EventName>(name: E) => Events[E][]
} {
  const events: { name: EventName; payload: unknown }[] = []
  return {
    events,
    emit: (name, payload) => events.push({ name, payload }),
    of: <E extends EventName>(name: E) => events.filter((e) => e.name === name).map((e) => e.payload as Events[E])
  }
}

/** run.json files in memory. */
export function memoryStore(runs: Record<string, Partial<RunJson>> = {}): RunStore & { runs: Record<string, RunJson> } {
  const all: Record<string, RunJson> = {}
  for (const [dir, run] of Object.entries(runs)) all[dir] = fakeRun(run)
  return {
    runs: all,
    async readRun(dir) {
      const run = all[dir]
      if (!run) throw Object.assign(new Error(`no run at ${dir}`), { code: 'ENOENT' })
      return structuredClone(run)
    },
    async updateRun(dir, patch) {
      const run = all[dir]
      if (!run) throw new Error(`no run at ${dir}`)
      all[dir] = { ...run, ...patch }
      return structuredClone(all[dir])
    }
  }
}

export function fakeRun(patch: Partial<RunJson> = {}): RunJson {
  return {
    formatVersion: 1,
    id: 'run',
    name: 'run',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    appVersion: '0.1.0',
    config: { steps: 100 } as RunJson['config'],
    dataset: { id: 'ds', name: 'ds' } as RunJson['dataset'],
    backend: null,
    status: 'stopped',
    step: 0,
    imagesSeen: 0,
    trainingMs: 0,
    latestCheckpoint: null,
    latestCheckpointStep: 0,
    error: null,
    tags: [],
    note: '',
    ...patch
  }
}

export const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Waits until `check` passes (polling), or fails with its last error. */
export async function until(check: () => unknown, timeoutMs = 5000): Promise<void> {
  const start = Date.now()
  for (;;) {
    try {
      const ok = await check()
      if (ok !== false) return
    } catch (err) {
      if (Date.now() - start > timeoutMs) throw err
    }
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting')
    await tick(5)
  }
}
