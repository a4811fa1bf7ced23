import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import type * as tf from '@tensorflow/tfjs'
import { StudioError } from '@shared/errors'
import { exists, writeDirAtomic } from '../../util/fs'
import type { RngState } from '../model/rng'
import { CHECKPOINT_FORMAT, parseCheckpointManifest, type CheckpointManifestJson } from './format'

/**
 * `checkpoints/step-NNNNNN/` holds `manifest.json` and `tensors.bin` (float32, little-endian, in
 * manifest order). The folder is written under a temporary name, fsynced and renamed, so a
 * checkpoint either exists whole or not at all. The manifest's SHA-256 covers the whole
 * checkpoint (its own fields and the tensor bytes), and its step must match the folder's name, so
 * a damaged or edited one is detected and the previous good one is used instead. Damaged ones are
 * moved aside to `checkpoints/damaged/`, never deleted; pruning keeps the newest three good ones.
 */

export { CHECKPOINT_FORMAT } from './format'
const KEEP = 3
export const DAMAGED_DIR = 'damaged'

export type CheckpointManifest = Omit<CheckpointManifestJson, 'rng' | 'covers'> & { rng: RngState }

export interface LoadedCheckpoint {
  name: string
  manifest: CheckpointManifest
  tensors: Record<string, { shape: number[]; data: Float32Array }>
}

export const checkpointName = (step: number): string => `step-${String(step).padStart(6, '0')}`
const CHECKPOINT_DIR = /^step-(\d{6,})$/

/** SHA-256 over the manifest's fields (as JSON, without the checksum itself), a NUL, and the tensor bytes. */
function checksum(manifestFields: Record<string, unknown>, tensors: Uint8Array): string {
  return createHash('sha256').update(JSON.stringify(manifestFields), 'utf8').update(Buffer.from([0])).update(tensors).digest('hex')
}

/**
 * Checkpoint folders this process wrote or verified whole, so pruning need not re-read them: the
 * checksum with the tensor file's size and mtime at that time (any change and it is read again).
 */
const knownGood = new Map<string, string>()
async function fingerprint(dir: string, sha: string): Promise<string | null> {
  try {
    const st = await fsp.stat(join(dir, 'tensors.bin'))
    const manifest = await fsp.stat(join(dir, 'manifest.json'))
    return `${sha}:${st.size}:${st.mtimeMs}:${manifest.size}:${manifest.mtimeMs}`
  } catch {
    return null
  }
}
async function rememberGood(dir: string, sha: string): Promise<void> {
  const print = await fingerprint(dir, sha)
  if (print === null) return
  knownGood.set(dir, print)
  if (knownGood.size > 256) knownGood.delete(knownGood.keys().next().value!)
}

export async function saveCheckpoint(
  runDir: string,
  meta: Omit<CheckpointManifest, 'tensors' | 'byteLength' | 'sha256' | 'formatVersion' | 'createdAt'>,
  tensors: Record<string, tf.Tensor | { shape: number[]; data: Float32Array }>
): Promise<string> {
  const entries = Object.entries(tensors).sort(([a], [b]) => a.localeCompare(b))
  const datas = await Promise.all(entries.map(async ([, t]) => (typeof t.data === 'function' ? ((await (t as tf.Tensor).data()) as Float32Array) : t.data)))
  let total = 0
  const layout = entries.map(([name, t], i) => {
    const length = datas[i]!.length
    const entry = { name, shape: t.shape.slice(), offset: total, length }
    total += length
    return entry
  })
  const all = new Float32Array(total)
  datas.forEach((d, i) => all.set(d, layout[i]!.offset))
  const bytes = new Uint8Array(all.buffer)
  const fields = {
    formatVersion: CHECKPOINT_FORMAT,
    createdAt: new Date().toISOString(),
    ...meta,
    tensors: layout,
    byteLength: bytes.byteLength
  }
  const sha256 = checksum(fields, bytes)
  const name = checkpointName(meta.step)
  const dir = join(runDir, 'checkpoints', name)
  try {
    await writeDirAtomic(dir, { 'tensors.bin': bytes, 'manifest.json': JSON.stringify({ ...fields, sha256 }, null, 2) })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      const mb = Math.ceil((bytes.byteLength + 64 * 1024) / (1024 * 1024))
      throw new StudioError(
        'io',
        `The disk is full: checkpoint ${name} could not be written in ${join(runDir, 'checkpoints')} (a checkpoint of this run needs about ${mb} MB). The partial checkpoint was removed; free some space, then resume.`
      )
    }
    throw err
  }
  await rememberGood(dir, sha256)
  await pruneCheckpoints(runDir, KEEP)
  return name
}

/** Checkpoint folder names, newest first (temporary folders of an interrupted write are ignored). */
export async function listCheckpoints(runDir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await fsp.readdir(join(runDir, 'checkpoints'))
  } catch {
    return []
  }
  return names
    .filter((n) => CHECKPOINT_DIR.test(n))
    .sort((a, b) => Number(CHECKPOINT_DIR.exec(b)![1]) - Number(CHECKPOINT_DIR.exec(a)![1]))
}

/**
 * Keeps the newest `keep` good checkpoints and deletes only what is older than all of them. A
 * damaged checkpoint met on the way is moved aside, not deleted, and never counts as one of the
 * kept. Temporary folders of writes interrupted by a crash (another process's) are removed.
 */
async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const dir = join(runDir, 'checkpoints')
  let good = 0
  for (const name of await listCheckpoints(runDir)) {
    if (good >= keep) {
      await fsp.rm(join(dir, name), { recursive: true, force: true })
      continue
    }
    const verdict = await verifyCheckpoint(runDir, name)
    if (verdict === null) good += 1
    else await moveAsideDamaged(runDir, name, verdict)
  }
  for (const n of await fsp.readdir(dir)) {
    if (n.includes('.tmp-')) {
      const pid = Number(n.split('.tmp-')[1]?.split('-')[0])
      if (pid !== process.pid) await fsp.rm(join(dir, n), { recursive: true, force: true })
    }
  }
}

/** null when the checkpoint reads back whole, else why not. */
async function verifyCheckpoint(runDir: string, name: string): Promise<string | null> {
  const dir = join(runDir, 'checkpoints', name)
  const known = knownGood.get(dir)
  if (known !== undefined) {
    if ((await fingerprint(dir, known.split(':')[0]!)) === known) return null
    knownGood.delete(dir)
  }
  try {
    await readCheckpoint(runDir, name)
    return null
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}

/**
 * Moves a damaged checkpoint to `checkpoints/damaged/<name>[-n]/` with a `reason.txt`, so it stops
 * being a candidate but nothing is silently deleted. Returns the new folder.
 */
export async function moveAsideDamaged(runDir: string, name: string, reason: string): Promise<string | null> {
  const from = join(runDir, 'checkpoints', name)
  const aside = join(runDir, 'checkpoints', DAMAGED_DIR)
  try {
    await fsp.mkdir(aside, { recursive: true })
    let to = join(aside, name)
    for (let n = 1; await exists(to); n++) to = join(aside, `${name}-${n}`)
    await fsp.rename(from, to)
    await fsp.writeFile(join(to, 'reason.txt'), `${reason}\n`).catch(() => undefined)
    knownGood.delete(from)
    return to
  } catch {
    return null
  }
}

function damaged(name: string, why: string): StudioError {
  return new StudioError('io', `Checkpoint ${name} is damaged (${why}).`)
}

export async function readCheckpoint(runDir: string, name: string): Promise<LoadedCheckpoint> {
  const dir = join(runDir, 'checkpoints', name)
  let raw: unknown
  try {
    raw = JSON.parse(await fsp.readFile(join(dir, 'manifest.json'), 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err
    throw damaged(name, 'manifest.json is not readable JSON')
  }
  const parsed = parseCheckpointManifest(raw)
  if (!parsed.ok) {
    if (/newer GAN Studio/.test(parsed.reason)) throw new StudioError('bad-input', `Checkpoint ${name}: ${parsed.reason}.`)
    throw damaged(name, parsed.reason)
  }
  const manifest = parsed.value
  if (checkpointName(manifest.step) !== name) throw damaged(name, `its manifest says step ${manifest.step}`)
  const buf = await fsp.readFile(join(dir, 'tensors.bin'))
  if (buf.byteLength !== manifest.byteLength) throw damaged(name, 'tensors.bin is truncated or too long')
  let sha: string
  if (manifest.covers === 'manifest+tensors') {
    const { sha256: _sha, ...fields } = raw as Record<string, unknown>
    void _sha
    sha = checksum(fields, buf)
  } else {
    sha = createHash('sha256').update(buf).digest('hex')
  }
  if (sha !== manifest.sha256) throw damaged(name, 'checksum mismatch')
  if (buf.byteLength % 4 !== 0) throw damaged(name, 'tensors.bin is not whole float32 values')
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))
  const tensors: LoadedCheckpoint['tensors'] = {}
  for (const t of manifest.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1)
    if (t.offset + t.length > all.length || size !== t.length) throw damaged(name, `tensor ${t.name} does not fit its shape or the file`)
    tensors[t.name] = { shape: t.shape, data: all.subarray(t.offset, t.offset + t.length) }
  }
  const { covers: _covers, ...rest } = manifest
  void _covers
  await rememberGood(dir, manifest.sha256)
  return { name, manifest: { ...rest, rng: manifest.rng as RngState }, tensors }
}

/**
 * The newest checkpoint that reads back whole, or null. A half-written or damaged one is skipped
 * (and reported through `onSkip`) in favour of the previous good one; with `moveAside` the
 * damaged ones are also moved to `checkpoints/damaged/` so they are never candidates again.
 */
export async function latestGoodCheckpoint(
  runDir: string,
  onSkip?: (name: string, reason: string) => void,
  options: { moveAside?: boolean } = {}
): Promise<LoadedCheckpoint | null> {
  for (const name of await listCheckpoints(runDir)) {
    try {
      return await readCheckpoint(runDir, name)
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      onSkip?.(name, reason)
      if (options.moveAside && !(err instanceof StudioError && err.code === 'bad-input')) await moveAsideDamaged(runDir, name, reason)
    }
  }
  return null
}

/** How many checkpoints read back whole, and the newest of them (for the run list of a damaged run). */
export async function goodCheckpoints(runDir: string): Promise<{ count: number; newest: LoadedCheckpoint['manifest'] | null; newestName: string | null }> {
  let count = 0
  let newest: LoadedCheckpoint['manifest'] | null = null
  let newestName: string | null = null
  for (const name of await listCheckpoints(runDir)) {
    try {
      const ck = await readCheckpoint(runDir, name)
      count += 1
      if (!newest) {
        newest = ck.manifest
        newestName = name
      }
    } catch {
      // damaged: not counted
    }
  }
  return { count, newest, newestName }
}
/** A checkpoint by name, or the newest good one when name is omitted; a clear error if none. */
export async function loadCheckpoint(runDir: string, name?: string): Promise<LoadedCheckpoint> {
  if (name) {
    if (!CHECKPOINT_DIR.test(name)) throw new StudioError('bad-input', `"${name}" is not a checkpoint name (expected step-NNNNNN).`)
    try {
      return await readCheckpoint(runDir, name)
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') throw new StudioError('not-found', `No checkpoint ${name} in ${runDir}.`)
      throw err
    }
  }
  const found = await latestGoodCheckpoint(runDir)
  if (!found) throw new StudioError('not-found', `The run at ${runDir} has no checkpoint yet.`)
  return found
}
