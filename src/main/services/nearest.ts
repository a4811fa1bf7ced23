import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { NearestImagesResult, ParsedParams } from '@shared/contract'
import type { DatasetJson } from '@shared/datasets'
import { StudioError } from '@shared/errors'
import { sampleFileName, type RunJson } from '@shared/runs'
import { getDataset, loadDatasetPixels } from '../trainer/data/dataset'
import { fromUint8, layoutInChunks, layoutVectors, NearestIndex, realFromPixels } from '../trainer/quality'
import { resolveFileInside } from '../util/safe-path'

type NearestImage = ParsedParams<'quality.nearest'>['image']

interface Prepared {
  dataset: DatasetJson
  pixels: Uint8Array
  index: NearestIndex
  typical: number | null
}

/** Datasets kept prepared (the newest used first). */
const KEEP = 2

/**
 * "Nearest training images": the training images closest to a generated one, by the quality
 * meter's layout distance (16 × 16 px, mirror images included). A dataset's index is built on
 * first use and kept for the next few questions. Pure TypeScript and sharp: no tensors here.
 */
export class NearestImages {
  private readonly prepared = new Map<string, Promise<Prepared>>()

  constructor(private readonly datasetsDir: string) {}

  async find(runDir: string, run: RunJson, image: NearestImage, count: number): Promise<NearestImagesResult> {
    const res = run.config.preprocess.resolution
    const query = await this.pixelsOf(runDir, run, image, res)
    const p = await this.prepare(run)
    if (p.dataset.resolution !== res) throw new StudioError('bad-input', `The dataset of this run is cached at ${p.dataset.resolution} px, the run trains at ${res} px.`)
    const vector = layoutVectors(fromUint8(query, 1, res))
    const size = res * res * 3
    const matches = await Promise.all(
      p.index.nearest(vector, count).map(async (n) => {
        let img = p.pixels.subarray(n.image * size, (n.image + 1) * size)
        if (n.mirrored) img = mirror(img, res)
        const png = await sharp(img, { raw: { width: res, height: res, channels: 3 } }).png().toBuffer()
        return { image: n.image, file: p.dataset.files?.[n.image] ?? null, url: `data:image/png;base64,${png.toString('base64')}`, mirrored: n.mirrored, distance: n.distance }
      })
    )
    const shown = await sharp(query, { raw: { width: res, height: res, channels: 3 } }).png().toBuffer()
    return { query: `data:image/png;base64,${shown.toString('base64')}`, matches, typicalDistance: p.typical, datasetName: p.dataset.name }
  }

  /** The dataset's index, rebuilt when the dataset was imported again since (its fingerprint changed). */
  private async prepare(run: RunJson): Promise<Prepared> {
    const dataset = await getDataset(this.datasetsDir, run.dataset.id)
    const key = `${dataset.id}\n${dataset.fingerprint}\n${dataset.updatedAt}`
    let p = this.prepared.get(key)
    if (!p) {
      p = (async () => {
        const pixels = await loadDatasetPixels(dataset, this.datasetsDir)
        const real = realFromPixels(pixels, dataset.count, dataset.resolution)
        const index = new NearestIndex(layoutInChunks(real, Uint32Array.from({ length: dataset.count }, (_, i) => i)), dataset.count)
        const probes = Math.min(256, dataset.count)
        const probe = Uint32Array.from({ length: probes }, (_, i) => Math.floor((i * dataset.count) / probes))
        return { dataset, pixels, index, typical: index.typicalNearestDistance(probe) }
      })()
      p.catch(() => this.prepared.delete(key))
      this.prepared.set(key, p)
      while (this.prepared.size > KEEP) this.prepared.delete(this.prepared.keys().next().value!)
    }
    return p
  }

  /** The generated image as `res × res × 3` uint8. */
  private async pixelsOf(runDir: string, run: RunJson, image: NearestImage, res: number): Promise<Uint8Array> {
    let input: Buffer
    if ('step' in image) {
      const count = run.config.gridSize
      if (image.index >= count) throw new StudioError('invalid-params', `The sample grid has ${count} images (index ${image.index} is past it).`)
      let grid: Buffer
      try {
        grid = await fsp.readFile(join(runDir, sampleFileName(image.step)))
      } catch {
        throw new StudioError('not-found', `This run has no sample grid at step ${image.step}.`)
      }
      // The grid's layout (trainer/run/grid.ts): square-ish, 2 px gaps, 32 px tiles shown at 2×.
      const columns = Math.ceil(Math.sqrt(count))
      const scale = res <= 32 ? 2 : 1
      const cell = res * scale
      const left = 2 + (image.index % columns) * (cell + 2)
      const top = 2 + Math.floor(image.index / columns) * (cell + 2)
      // Tiles are enlarged by repeating pixels, so taking every scale-th pixel gives the image back exactly.
      input = await sharp(grid).extract({ left, top, width: cell, height: cell }).resize(res, res, { kernel: 'nearest' }).png().toBuffer()
    } else if ('file' in image) {
      input = await fsp.readFile(await resolveFileInside(runDir, image.file))
    } else {
      input = Buffer.from(image.png.slice('data:image/png;base64,'.length), 'base64')
    }
    try {
      const { data } = await sharp(input)
        .flatten({ background: '#ffffff' })
        .resize(res, res, { fit: 'fill', kernel: 'lanczos3' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true })
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    } catch {
      throw new StudioError('bad-input', 'That image could not be read.')
    }
  }
}

function mirror(img: Uint8Array, res: number): Uint8Array {
  const out = new Uint8Array(img.length)
  for (let y = 0; y < res; y++)
    for (let x = 0; x < res; x++) {
      const s = (y * res + x) * 3
      const d = (y * res + (res - 1 - x)) * 3
      out[d] = img[s]!
      out[d + 1] = img[s + 1]!
      out[d + 2] = img[s + 2]!
    }
  return out
}
