import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import type * as tf from '@tensorflow/tfjs'
import type { RunConfig } from '@shared/config'
import { StudioError } from '@shared/errors'
import { writeDirAtomic } from '../../util/fs'
import type { RngState } from '../model/rng'

/**
 * `checkpoints/step-NNNNNN/` holds `manifest.json` and `tensors.bin` (float32, little-endian, in
 * manifest order). The folder is written under a temporary name, fsynced and renamed, so a
 * checkpoint either exists whole or not at all; the manifest records the byte length and a SHA-256
 * of the tensor file, so a damaged one is detected and the previous good one is used instead.
 */

export const CHECKPOINT_FORMAT = 1
const KEEP = 3

export interface CheckpointManifest {
  formatVersion: number
  step: number
  imagesSeen: number
  trainingMs: number
  createdAt: string
  appVersion: string
  config: RunConfig
  rng: RngState
  gOptStep: number
  dOptStep: number
  tensors: { name: string; shape: number[]; offset: number; length: number }[]
  byteLength: number
  sha256: string
}

export interface LoadedCheckpoint {
  name: string
  manifest: CheckpointManifest
  tensors: Record<string, { shape: number[]; data: Float32Array }>
}

export const checkpointName = (step: number): string => `step-${String(step).padStart(6, '0')}`
const CHECKPOINT_DIR = /^step-(\d{6,})$/

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
  const manifest: CheckpointManifest = {
    formatVersion: CHECKPOINT_FORMAT,
    createdAt: new Date().toISOString(),
    ...meta,
    tensors: layout,
    byteLength: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex')
  }
  const name = checkpointName(meta.step)
  const dir = join(runDir, 'checkpoints', name)
  await writeDirAtomic(dir, { 'tensors.bin': bytes, 'manifest.json': JSON.stringify(manifest, null, 2) })
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

async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const dir = join(runDir, 'checkpoints')
  const names = await listCheckpoints(runDir)
  for (const stale of names.slice(keep)) await fsp.rm(join(dir, stale), { recursive: true, force: true })
  // Leftovers of writes interrupted by a crash.
  for (const n of await fsp.readdir(dir)) {
    if (n.includes('.tmp-')) {
      const pid = Number(n.split('.tmp-')[1]?.split('-')[0])
      if (pid !== process.pid) await fsp.rm(join(dir, n), { recursive: true, force: true })
    }
  }
}

export async function readCheckpoint(runDir: string, name: string): Promise<LoadedCheckpoint> {
  const dir = join(runDir, 'checkpoints', name)
  const manifest = JSON.parse(await fsp.readFile(join(dir, 'manifest.json'), 'utf8')) as CheckpointManifest
  if (manifest.formatVersion !== CHECKPOINT_FORMAT)
    throw new StudioError('bad-input', `Checkpoint ${name} has format ${manifest.formatVersion}; this version reads format ${CHECKPOINT_FORMAT}.`)
  const buf = await fsp.readFile(join(dir, 'tensors.bin'))
  if (buf.byteLength !== manifest.byteLength) throw new StudioError('io', `Checkpoint ${name} is truncated.`)
  if (createHash('sha256').update(buf).digest('hex') !== manifest.sha256)
    throw new StudioError('io', `Checkpoint ${name} is damaged (checksum mismatch).`)
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))
  const tensors: LoadedCheckpoint['tensors'] = {}
  for (const t of manifest.tensors) tensors[t.name] = { shape: t.shape, data: all.subarray(t.offset, t.offset + t.length) }
  return { name, manifest, tensors }
}

/**
 * The newest checkpoint that reads back whole, or null. A half-written or damaged one is skipped
 * (and reported through `onSkip`) in favour of the previous good one.
 */
export async function latestGoodCheckpoint(
  runDir: string,
  onSkip?: (name: string, reason: string) => void
): Promise<LoadedCheckpoint | null> {
  for (const name of await listCheckpoints(runDir)) {
    try {
      return await readCheckpoint(runDir, name)
    } catch (err) {
      onSkip?.(name, err instanceof Error ? err.message : String(err))
    }
  }
  return null
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
