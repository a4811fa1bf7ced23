import { createHash } from 'node:crypto'
import { createReadStream, promises as fsp } from 'node:fs'
import { dirname, join } from 'node:path'
import writeFileAtomicLib from 'write-file-atomic'

/**
 * Writes that matter are atomic: a temp file beside the target, fsync, rename (write-file-atomic
 * does this and cleans up after a failure), then fsync of the folder so the rename survives a crash.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(dirname(file), { recursive: true })
  await writeFileAtomicLib(file, typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    fsync: true
  })
  await fsyncDir(dirname(file))
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n')
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fsp.readFile(file, 'utf8')) as T
}

export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined
  try {
    handle = await fsp.open(dir, 'r')
    await handle.sync()
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close()
  }
}

/** Writes a whole folder atomically: files go into `<dir>.tmp-<pid>`, are fsynced, then renamed; a failed write leaves nothing behind. */
export async function writeDirAtomic(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  await fsp.rm(tmp, { recursive: true, force: true })
  try {
    await fsp.mkdir(tmp, { recursive: true })
    for (const [name, data] of Object.entries(files)) {
      const handle = await fsp.open(join(tmp, name), 'w')
      try {
        await handle.writeFile(data)
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
    await fsyncDir(tmp)
  } catch (err) {
    // A partial write (a full disk) must not keep taking the space: remove it before reporting.
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined)
    throw err
  }
  await fsp.rm(dir, { recursive: true, force: true })
  await fsp.rename(tmp, dir)
  await fsyncDir(dirname(dir))
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fsp.access(path)
    return true
  } catch {
    return false
  }
}

/** The SHA-256 of a file's bytes, as hex, read as a stream. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256')
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')))
  })
}
