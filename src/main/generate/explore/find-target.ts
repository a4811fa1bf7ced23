import { promises as fsp } from 'node:fs'
import { basename } from 'node:path'
import sharp from 'sharp'
import { StudioError } from '@shared/errors'
import type { RunJson } from '@shared/runs'
import { datasetImagesPng, getDataset } from '../../trainer/data/dataset'
import { decodeImage, decodeImageBytes, newScratch, resolvePreprocess, SkipFile, type ResolvedPreprocess } from '../../trainer/data/decode'

/**
 * The image "Find my image" looks for, made into training pixels exactly as the run's dataset
 * was: the same resolution, crop or pad, and background for transparency (the import pipeline's
 * own decoder). Tensor-free.
 */

/** An image file on the studio machine, image bytes (a dropped file), or an image of the run's dataset. */
export type FindTarget =
  | { file: string; bytes?: undefined; datasetImage?: undefined }
  | { bytes: Uint8Array; name?: string; file?: undefined; datasetImage?: undefined }
  | { datasetImage: number; datasetsDir: string; file?: undefined; bytes?: undefined }

export interface LoadedTarget {
  /** resolution² × 3 bytes, RGB. */
  pixels: Uint8Array
  resolution: number
  /** How a person would name it: the file name, or "dataset image 12 (moth.jpg)". */
  label: string
}

/** Input files larger than this are refused (a photo is a few MB; this is far past any). */
export const MAX_TARGET_BYTES = 256 << 20

/** The preprocessing the run's images had: the dataset's own when it is recorded, else the run's config. */
export function runPreprocess(run: RunJson): ResolvedPreprocess {
  const pp = run.config.preprocess
  return resolvePreprocess({
    resolution: run.dataset?.resolution ?? pp.resolution,
    crop: run.dataset?.crop ?? pp.crop,
    background: run.dataset?.background ?? pp.background
  })
}

function unusable(what: string, reason: string): StudioError {
  return new StudioError('bad-input', `${what} cannot be used: ${reason}.`)
}

export async function loadTarget(run: RunJson, target: FindTarget): Promise<LoadedTarget> {
  const pp = runPreprocess(run)
  const res = pp.resolution
  if (target.datasetImage !== undefined) {
    const index = target.datasetImage
    const dataset = await getDataset(target.datasetsDir, run.dataset.id).catch((err: unknown) => {
      if (err instanceof StudioError && err.code === 'not-found') throw new StudioError('bad-input', `This run's dataset (${run.dataset.name}) is no longer in the studio, so its images cannot be picked.`)
      throw err
    })
    if (!Number.isInteger(index) || index < 0 || index >= dataset.count)
      throw new StudioError('bad-input', `The dataset ${dataset.name} has ${dataset.count} images (0 to ${dataset.count - 1}); there is no image ${index}.`)
    if (dataset.resolution !== res) throw new StudioError('bad-input', `The dataset ${dataset.name} is now cached at ${dataset.resolution} px; this run makes ${res} px images.`)
    const [png] = await datasetImagesPng(dataset, target.datasetsDir, index, 1)
    const pixels = await sharp(png!).removeAlpha().raw().toBuffer()
    const file = dataset.files?.[index]
    return { pixels: new Uint8Array(pixels), resolution: res, label: `dataset image ${index}${file ? ` (${file})` : ''}` }
  }
  if (target.bytes !== undefined) {
    const label = target.name?.trim() || 'the dropped image'
    if (target.bytes.byteLength > MAX_TARGET_BYTES) throw unusable(label, `it is larger than ${MAX_TARGET_BYTES >> 20} MB`)
    try {
      const decoded = await decodeImageBytes(Buffer.from(target.bytes.buffer, target.bytes.byteOffset, target.bytes.byteLength), pp)
      return { pixels: new Uint8Array(decoded.pixels), resolution: res, label }
    } catch (err) {
      if (err instanceof SkipFile) throw unusable(label, err.reason)
      throw err
    }
  }
  const file = target.file
  const label = basename(file)
  let size: number
  try {
    const st = await fsp.stat(file)
    if (!st.isFile()) throw unusable(file, 'it is not a file')
    size = st.size
  } catch (err) {
    if (err instanceof StudioError) throw err
    const code = (err as NodeJS.ErrnoException).code
    throw new StudioError('bad-input', code === 'ENOENT' ? `There is no image file ${file}.` : `${file} cannot be read (${code ?? (err as Error).message}).`)
  }
  if (size > MAX_TARGET_BYTES) throw unusable(file, `it is larger than ${MAX_TARGET_BYTES >> 20} MB`)
  try {
    const decoded = await decodeImage(file, size, pp, newScratch())
    return { pixels: new Uint8Array(decoded.pixels), resolution: res, label }
  } catch (err) {
    if (err instanceof SkipFile) throw unusable(file, err.reason)
    throw err
  }
}
