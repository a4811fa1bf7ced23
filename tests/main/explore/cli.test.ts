import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/main/cli/index'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false })
  return { code, out, err }
}

let root: string
let run: TinyRun
let bare: TinyRun

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-explore-cli-'))
  run = await makeTinyRun(join(root, 'runs'), { steps: [100, 200, 300] })
  bare = await makeTinyRun(join(root, 'runs'), { steps: [] })
})

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('gan-studio explore: bad input is one line and exit code 2', () => {
  const nowhere = '/nonexistent/run-folder'
  const cases: [string, () => string[], RegExp][] = [
    ['no tool', () => ['explore'], /which tool\?/],
    ['unknown tool', () => ['explore', 'dream', run.dir], /unknown tool "dream"/],
    ['timelapse: no run', () => ['explore', 'timelapse'], /needs one run folder/],
    ['timelapse: unknown run', () => ['explore', 'timelapse', nowhere], /No run at/],
    ['timelapse: bad format', () => ['explore', 'timelapse', run.dir, '--format', 'mp4'], /--format must be one of gif, webp/],
    ['timelapse: out and format disagree', () => ['explore', 'timelapse', run.dir, '--format', 'gif', '--out', join(root, 'x.webp')], /--out ends in .webp but --format is gif/],
    ['timelapse: cell not a number', () => ['explore', 'timelapse', run.dir, '--cell', 'two'], /--cell must be a whole number/],
    ['timelapse: cell outside the grid', () => ['explore', 'timelapse', run.dir, '--cell', '20'], /Cell must be 0 to 15/],
    ['timelapse: fps 0', () => ['explore', 'timelapse', run.dir, '--fps', '0'], /--fps must be between/],
    ['timelapse: no grids yet', () => ['explore', 'timelapse', bare.dir], /no sample grids yet/],
    ['timelapse: unknown flag', () => ['explore', 'timelapse', run.dir, '--colour', 'red'], /Unknown option '--colour'/],
    ['favorites: bad seed list', () => ['explore', 'favorites', run.dir, '--add', '1,x'], /--add must be whole numbers/],
    ['collections: no run', () => ['explore', 'collections'], /needs one run folder/],
    ['collection: no name', () => ['explore', 'collection', run.dir], /needs a run folder and a collection name/],
    ['collection: unknown one to export', () => ['explore', 'collection', run.dir, 'Nothing', '--export'], /There is no collection "Nothing"/],
    ['collection: delete with other changes', () => ['explore', 'collection', run.dir, 'A', '--delete', '--add', '1'], /--delete cannot be combined/],
    ['collection: name too long', () => ['explore', 'collection', run.dir, 'x'.repeat(90)], /at most 80 characters/]
  ]
  for (const [name, argv, message] of cases) {
    it(name, async () => {
      const r = await cli(argv())
      expect(r.code).toBe(2)
      expect(r.err).toHaveLength(1)
      expect(r.err[0]).toMatch(message)
      expect(r.err[0]).toMatch(/^gan-studio explore/)
    })
  }
})

describe('gan-studio explore timelapse', () => {
  it('writes the format the file name asks for, one frame per grid', async () => {
    const out = join(root, 'lapse.webp')
    const r = await cli(['explore', 'timelapse', run.dir, '--out', out, '--fps', '3'])
    expect(r).toMatchObject({ code: 0, err: [] })
    expect(r.out.at(-1)).toMatch(/Wrote a 3-frame WEBP timelapse \(whole grid, steps 100–300, /)
    const meta = await sharp(out).metadata()
    expect(meta).toMatchObject({ format: 'webp', pages: 3 })
  })
})

describe('gan-studio explore favorites / collections / collection', () => {
  it('stars seeds, fills a collection, lists it, exports it, renames and deletes it', async () => {
    expect((await cli(['explore', 'favorites', run.dir, '--add', '5,1,5'])).out).toEqual(['Favourite seeds (2): 1, 5'])
    expect((await cli(['explore', 'favorites', run.dir, '--remove', '1'])).out).toEqual(['Favourite seeds (1): 5'])
    expect((await cli(['explore', 'collections', run.dir])).out[0]).toMatch(/No collections yet/)
    const made = await cli(['explore', 'collection', run.dir, 'Dusk', '--add', '3,4,9'])
    expect(made).toMatchObject({ code: 0, out: ['Dusk (3 items): seeds 3, 4, 9'] })
    expect((await cli(['explore', 'collection', run.dir, 'dusk', '--remove', '4'])).out).toEqual(['Dusk (2 items): seeds 3, 9'])
    expect((await cli(['explore', 'collections', run.dir])).out).toEqual(['Dusk (2 items): seeds 3, 9'])
    const out = join(root, 'dusk-out')
    const exported = await cli(['explore', 'collection', run.dir, 'Dusk', '--export', '--out', out, '--backend', 'cpu', '--upscale', '2'])
    expect(exported.code).toBe(0)
    expect(exported.out.at(-1)).toMatch(/Wrote 2 images \(step 300\) to /)
    expect((await fsp.readdir(out)).sort()).toEqual(['seed-000003.png', 'seed-000009.png'])
    expect((await sharp(join(out, 'seed-000003.png')).metadata()).width).toBe(64)
    expect((await cli(['explore', 'collection', run.dir, 'Dusk', '--rename', 'Evening'])).out).toEqual(['Evening (2 items): seeds 3, 9'])
    expect((await cli(['explore', 'collection', run.dir, 'Evening', '--delete'])).out).toEqual(['Deleted the collection "Evening".'])
    expect((await cli(['explore', 'favorites', run.dir])).out).toEqual(['Favourite seeds (1): 5'])
  })
})
