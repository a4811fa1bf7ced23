import { promises as fsp } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fsyncDir } from '../../util/fs'

const CHUNK_BYTES = 4 << 20

/**
 * Streams the pixel cache to disk atomically: appends go to `<file>.tmp-<pid>-<n>` in large
 * chunks, `commit()` fsyncs it and renames it over the final name, then fsyncs the folder. The
 * cache can be hundreds of MB, so it is never held whole in memory; a crash or a cancel leaves the
 * previous cache (or none) and a temp file that the next import removes.
 */
export class CacheFileWriter {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private chain: Promise<void> = Promise.resolve()
  private failed: unknown = null
  bytesWritten = 0

  private constructor(
    readonly file: string,
    private readonly temp: string,
    private readonly handle: fsp.FileHandle
  ) {}

  static async open(file: string): Promise<CacheFileWriter> {
    await fsp.mkdir(dirname(file), { recursive: true })
    const temp = `${file}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
    const handle = await fsp.open(temp, 'w')
    return new CacheFileWriter(file, temp, handle)
  }

  /** Queues bytes in order; writes happen in the background, one chunk at a time. */
  append(bytes: Uint8Array): void {
    this.pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    this.pendingBytes += bytes.byteLength
    if (this.pendingBytes >= CHUNK_BYTES) this.flushPending()
  }

  /** Resolves when everything queued so far is on its way to disk (backpressure for producers). */
  async drained(): Promise<void> {
    await this.chain
    if (this.failed) throw this.failed
  }

  private flushPending(): void {
    if (this.pendingBytes === 0) return
    const batch = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    this.chain = this.chain.then(async () => {
      if (this.failed) return
      try {
        let offset = 0
        while (offset < batch.byteLength) {
          const { bytesWritten } = await this.handle.write(batch, offset, batch.byteLength - offset, null)
          if (bytesWritten <= 0) throw new Error('write returned no progress')
          offset += bytesWritten
        }
        this.bytesWritten += batch.byteLength
      } catch (err) {
        this.failed = err
      }
    })
  }

  /** Flushes, fsyncs, renames into place. */
  async commit(): Promise<void> {
    this.flushPending()
    await this.chain
    if (this.failed) {
      await this.abort()
      throw this.failed
    }
    try {
      await this.handle.sync()
      await this.handle.close()
      await fsp.rename(this.temp, this.file)
    } catch (err) {
      await this.abort()
      throw err
    }
    await fsyncDir(dirname(this.file))
  }

  /** Drops the temp file; safe to call more than once. */
  async abort(): Promise<void> {
    this.pending = []
    this.pendingBytes = 0
    await this.chain.catch(() => undefined)
    await this.handle.close().catch(() => undefined)
    await fsp.rm(this.temp, { force: true }).catch(() => undefined)
  }
}

/**
 * Removes cache temp files left by an import that crashed: only ones whose writer process is no
 * longer alive, so a concurrent import in another process keeps its file.
 */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[]
  try {
    names = await fsp.readdir(dir)
  } catch {
    return
  }
  for (const name of names) {
    const m = /^cache-\d+\.bin\.tmp-(\d+)-/.exec(basename(name))
    if (!m) continue
    const pid = Number(m[1])
    if (pid === process.pid || isAlive(pid)) continue // ours, or another live import's
    await fsp.rm(join(dir, name), { force: true }).catch(() => undefined)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
