import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { locateBuilt } from '../util/locate'
import type { FastDecoded, FastPreprocess } from './fast-jpeg'

/**
 * Worker threads for the JPEG fast path (`decode-worker.ts`). The fast path is JavaScript and
 * WebAssembly, so it needs threads of its own to use every core, beside sharp's libuv threads,
 * which decode whatever it declines. A pool lives for one import; idle threads are unref'd, so they never hold a process
 * open, and a worker that dies takes only its jobs' fast path with it: they go through sharp.
 */
export interface FastJob {
  id: number
  file: string
  pp: FastPreprocess
}

export type FastReply = { id: number; pixels: Uint8Array; width: number; height: number } | { id: number; declined: string }

/** Extensions worth offering to the fast path; the worker checks the bytes. */
const JPEG_NAME = /\.(jpe?g|jpe|jfif)$/i

interface Slot {
  worker: Worker
  busy: number
}

export class FastJpegPool {
  private readonly slots: Slot[] = []
  private readonly pending = new Map<number, { slot: Slot; done: (r: FastDecoded | null) => void }>()
  private nextId = 1
  private closed = false

  private constructor(private readonly entry: string, private readonly size: number) {}

  /**
   * A pool of `size` workers (default: one per core), or null when the built worker is missing
   * (running from sources without `npm run build`): then every file goes through sharp.
   */
  static create(size = availableParallelism()): FastJpegPool | null {
    let entry: string
    try {
      entry = locateBuilt('main/decode-worker.js', import.meta.url)
    } catch {
      return null
    }
    return new FastJpegPool(entry, Math.max(1, size))
  }

  static accepts(file: string): boolean {
    return JPEG_NAME.test(file)
  }

  /** Decodes `file` on the fast path; null means "use sharp" (CMYK, arithmetic-coded, too small, damaged…). */
  decode(file: string, pp: FastPreprocess): Promise<FastDecoded | null> {
    if (this.closed) return Promise.resolve(null)
    const slot = this.pick()
    if (!slot) return Promise.resolve(null)
    const id = this.nextId++
    if (slot.busy++ === 0) slot.worker.ref() // a job in flight keeps the process alive until it answers
    return new Promise((done) => {
      this.pending.set(id, { slot, done })
      slot.worker.postMessage({ id, file, pp } satisfies FastJob)
    })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const { done } of this.pending.values()) done(null)
    this.pending.clear()
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()))
  }

  /** The least busy worker, starting workers up to `size` as load asks for them. */
  private pick(): Slot | null {
    let best = this.slots.reduce<Slot | null>((b, s) => (b === null || s.busy < b.busy ? s : b), null)
    if ((best === null || best.busy > 0) && this.slots.length < this.size) {
      try {
        best = this.spawn()
      } catch {
        // cannot start threads here: sharp does the work
      }
    }
    return best
  }

  private spawn(): Slot {
    // A larger young generation than a worker's default: each image allocates a few short-lived
    // megabytes, and fewer scavenges mean less time collecting.
    // The old generation is bounded too: with the kernels' own limit (MEMORY_LIMIT) and the file
    // size limit, one worker's memory stays bounded whatever the image claims to be.
    const worker = new Worker(this.entry, { resourceLimits: { maxYoungGenerationSizeMb: 48, maxOldGenerationSizeMb: 512 } })
    worker.unref()
    const slot: Slot = { worker, busy: 0 }
    worker.on('message', (reply: FastReply) => {
      const job = this.pending.get(reply.id)
      if (!job) return
      this.pending.delete(reply.id)
      if (--slot.busy === 0) slot.worker.unref()
      job.done('declined' in reply ? null : { pixels: reply.pixels, width: reply.width, height: reply.height })
    })
    const fail = (): void => {
      const index = this.slots.indexOf(slot)
      if (index >= 0) this.slots.splice(index, 1)
      for (const [id, job] of this.pending) {
        if (job.slot !== slot) continue
        this.pending.delete(id)
        job.done(null)
      }
    }
    worker.on('error', fail)
    worker.on('exit', fail)
    this.slots.push(slot)
    return slot
  }
}
