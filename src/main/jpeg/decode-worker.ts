/**
 * A decode worker thread (`out/main/decode-worker.js`): reads a JPEG and runs the 1/8-scale fast
 * path on it (`fast-jpeg.ts`), off the main thread. Answers each `FastJob` with the pixels, or
 * with the reason the file must go through sharp instead.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import { decodeJpegFast } from './fast-jpeg'
import type { FastJob, FastReply } from './decode-pool'

/** Larger files are left to sharp (it streams them from disk). */
const MAX_BYTES = 64 << 20

let scratch = Buffer.allocUnsafeSlow(2 << 20)

function readWhole(file: string): Buffer | string {
  // Non-blocking: a file swapped for a FIFO after the scan must not hang this thread.
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) return 'not a plain file'
    const size = st.size
    if (size > MAX_BYTES) return 'larger than the in-memory limit'
    if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, scratch.length * 2))
    let filled = 0
    while (filled < size) {
      const n = readSync(fd, scratch, filled, size - filled, filled)
      if (n === 0) break
      filled += n
    }
    return scratch.subarray(0, filled)
  } finally {
    closeSync(fd)
  }
}

function handle(job: FastJob): { reply: FastReply; transfer: ArrayBuffer[] } {
  let bytes: Buffer | string
  try {
    bytes = readWhole(job.file)
  } catch (err) {
    return { reply: { id: job.id, declined: `could not be read here (${(err as Error).message})` }, transfer: [] }
  }
  if (typeof bytes === 'string') return { reply: { id: job.id, declined: bytes }, transfer: [] }
  const result = decodeJpegFast(bytes, job.pp)
  if ('declined' in result) return { reply: { id: job.id, declined: result.declined }, transfer: [] }
  const pixels = result.pixels
  return { reply: { id: job.id, pixels, width: result.width, height: result.height }, transfer: [pixels.buffer as ArrayBuffer] }
}

parentPort?.on('message', (job: FastJob) => {
  let out: { reply: FastReply; transfer: ArrayBuffer[] }
  try {
    out = handle(job)
  } catch (err) {
    out = { reply: { id: job.id, declined: `fast path failed (${(err as Error).message})` }, transfer: [] }
  }
  parentPort!.postMessage(out.reply, out.transfer)
})
