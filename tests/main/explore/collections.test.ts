import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportCollection, collectionSlug } from '../../../src/main/generate/explore/collection-export'
import {
  addToCollection,
  createCollection,
  deleteCollection,
  FAVORITES_FILE,
  readFavorites,
  readFavoritesFile,
  removeFromCollection,
  renameCollection,
  setFavorite,
  writeFavorites
} from '../../../src/main/generate/favorites'
import { generateImages } from '../../../src/main/generate/images'
import { readPngText } from '../../../src/main/generate/png-text'
import { latentForSeed } from '../../../src/main/trainer/model/rng'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

let root: string
let run: TinyRun
const DIM = 16

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-collections-'))
  run = await makeTinyRun(join(root, 'runs'))
})

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('favourites and collections in the run folder', () => {
  it('reads a format-1 file (seeds only) and keeps its seeds when collections are added', async () => {
    const dir = (await makeTinyRun(join(root, 'runs'), { steps: [] })).dir
    await fsp.writeFile(join(dir, FAVORITES_FILE), JSON.stringify({ formatVersion: 1, seeds: [9, 3], updatedAt: 'x' }))
    expect(await readFavoritesFile(dir)).toEqual({ seeds: [3, 9], collections: [] })
    await createCollection(dir, 'Moody skies')
    const stored = JSON.parse(await fsp.readFile(join(dir, FAVORITES_FILE), 'utf8'))
    expect(stored).toMatchObject({ formatVersion: 2, seeds: [3, 9], collections: [{ name: 'Moody skies', items: [] }] })
    // starring keeps the collections
    await setFavorite(dir, 5, true)
    expect(await readFavoritesFile(dir)).toMatchObject({ seeds: [3, 5, 9], collections: [{ name: 'Moody skies' }] })
  })

  it('adds seeds (once each) and latents, removes, renames, deletes', async () => {
    const dir = run.dir
    await createCollection(dir, 'Keepers')
    const z = Array.from(latentForSeed(77, DIM)).map((v) => v * 0.5)
    let f = await addToCollection(dir, 'keepers', [{ seed: 4 }, { seed: 4 }, { seed: 11, label: 'the red one' }, { latent: z, label: 'variation of 77' }], { latentDim: DIM })
    const c = f.collections.find((o) => o.name === 'Keepers')!
    expect(c.items.map((i) => i.seed)).toEqual([4, 11, null])
    expect(c.items[1]!.label).toBe('the red one')
    expect(c.items[2]!.latent).toHaveLength(DIM)
    expect(c.items[2]!.latent![3]).toBeCloseTo(z[3]!, 6)
    f = await addToCollection(dir, 'Keepers', [{ seed: 4 }, { seed: 12 }], { latentDim: DIM })
    expect(f.collections[0]!.items.map((i) => i.seed)).toEqual([4, 11, null, 12])
    f = await removeFromCollection(dir, 'Keepers', { ids: [c.items[0]!.id] })
    expect(f.collections[0]!.items.map((i) => i.seed)).toEqual([11, null, 12])
    f = await renameCollection(dir, 'Keepers', 'Best of')
    expect(f.collections.map((o) => o.name)).toEqual(['Best of'])
    await createCollection(dir, 'Other')
    await expect(renameCollection(dir, 'Other', 'best OF')).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/already exists/) })
    f = await deleteCollection(dir, 'Other')
    expect(f.collections.map((o) => o.name)).toEqual(['Best of'])
  })

  it('refuses what does not fit: unknown collection, wrong latent size, bad names and seeds', async () => {
    await expect(addToCollection(run.dir, 'Nope', [{ seed: 1 }], { latentDim: DIM })).rejects.toMatchObject({ code: 'not-found' })
    await expect(addToCollection(run.dir, 'Best of', [{ latent: [1, 2, 3] }], { latentDim: DIM })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/16 values/) })
    await expect(createCollection(run.dir, '   ')).rejects.toMatchObject({ code: 'bad-input' })
    await expect(createCollection(run.dir, 'x'.repeat(81))).rejects.toMatchObject({ code: 'bad-input' })
    await expect(addToCollection(run.dir, 'Best of', [{ seed: -1 }], { latentDim: DIM })).rejects.toMatchObject({ code: 'bad-input' })
    const made = await addToCollection(run.dir, 'Fresh', [{ seed: 1 }], { latentDim: DIM, create: true })
    expect(made.collections.map((c) => c.name)).toContain('Fresh')
    await deleteCollection(run.dir, 'Fresh')
  })

  it('changes that arrive together are all kept', async () => {
    const dir = (await makeTinyRun(join(root, 'runs'), { steps: [] })).dir
    await createCollection(dir, 'Busy')
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => addToCollection(dir, 'Busy', [{ seed: i }], { latentDim: DIM })),
      ...Array.from({ length: 5 }, (_, i) => setFavorite(dir, 100 + i, true))
    ])
    const f = await readFavoritesFile(dir)
    expect(f.collections[0]!.items.map((i) => i.seed).sort((a, b) => a! - b!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(f.seeds).toEqual([100, 101, 102, 103, 104])
  })

  it('travels with the run folder: a copy elsewhere reads the same; a newer format is refused clearly', async () => {
    await writeFavorites(run.dir, [8, 2])
    const copy = join(root, 'elsewhere', 'copied-run')
    await fsp.cp(run.dir, copy, { recursive: true })
    expect(await readFavoritesFile(copy)).toEqual(await readFavoritesFile(run.dir))
    expect(await readFavorites(copy)).toEqual([2, 8])
    await fsp.writeFile(join(copy, FAVORITES_FILE), JSON.stringify({ formatVersion: 3, seeds: [] }))
    await expect(readFavoritesFile(copy)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/newer GAN Studio/) })
    await fsp.writeFile(join(copy, FAVORITES_FILE), '{ not json')
    await expect(readFavoritesFile(copy)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/unreadable/) })
  })

  it('exports a collection: seeds as the generator draws them, latents with their values in the PNG', async () => {
    const r = await exportCollection(run.dir, 'Best of', { backend: 'cpu' })
    expect(r.dir).toBe(join(run.dir, 'exports', 'collections', 'best-of', 'step-000100-psi1.00'))
    expect(r.files.map((f) => f.slice(r.dir.length + 1))).toEqual(['seed-000011.png', 'latent-0001.png', 'seed-000012.png'])
    const same = await generateImages(run.dir, { seeds: [11], outDir: null, backend: 'cpu' })
    const a = await sharp(r.files[0]!).raw().toBuffer()
    const b = await sharp(same.images[0]!.png!).raw().toBuffer()
    expect(a.equals(b)).toBe(true)
    const text = readPngText(await fsp.readFile(r.files[1]!))
    expect(text).toMatchObject({ collection: 'Best of', label: 'variation of 77' })
    expect(text.latent!.split(',')).toHaveLength(DIM)
    // the latent image differs from seed 77's (it is half of it)
    const seed77 = await generateImages(run.dir, { seeds: [77], outDir: null, backend: 'cpu' })
    expect((await sharp(r.files[1]!).raw().toBuffer()).equals(await sharp(seed77.images[0]!.png!).raw().toBuffer())).toBe(false)
    expect(collectionSlug('Ça va — Été 2024!')).toBe('ca-va-ete-2024')
  })
})
