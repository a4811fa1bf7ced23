import { promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/main/cli/index'
import { readPngText } from '../../../src/main/generate/png-text'
import { makeTinyRun, type TinyRun } from '../generate/fixture'

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false })
  return { code, out, err }
}

let root: string
let run: TinyRun

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fsp.mkdtemp(join(tmpdir(), 'gan-directions-cli-'))
  run = await makeTinyRun(join(root, 'runs'))
})
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true })
})

describe('gan-studio explore directions / direction / apply, and walks along directions', () => {
  it('lists the principal directions (computed once, then from the cache), as text or JSON', async () => {
    const first = await cli(['explore', 'directions', run.dir, '--count', '5', '--samples', '1024', '--backend', 'cpu'])
    expect(first).toMatchObject({ code: 0, err: [] })
    const head = first.out.findIndex((l) => l.startsWith('Principal directions'))
    expect(first.out[head]).toMatch(/^Principal directions of “.+” at step 100 \(computed in [\d.]+ s; 1024 samples, 1024 early features\):$/)
    expect(first.out.slice(head + 1, head + 6).map((l) => l.trim().split(/\s+/)[0])).toEqual(['PC1', 'PC2', 'PC3', 'PC4', 'PC5'])
    expect(first.out.at(-1)).toMatch(/^No saved directions yet/)
    const again = await cli(['explore', 'directions', run.dir, '--count', '3', '--json', '--backend', 'cpu'])
    expect(again.code).toBe(0)
    const json = JSON.parse(again.out.join('\n')) as { cached: boolean; step: number; components: { component: number; vector: number[]; explained: number }[]; saved: unknown[] }
    expect(json).toMatchObject({ cached: true, step: 100, saved: [] })
    expect(json.components.map((c) => c.component)).toEqual([1, 2, 3])
    expect(json.components[0]!.vector).toHaveLength(16)
  })

  it('saves a component by name (flipped, scaled), shows, renames and deletes it', async () => {
    const saved = await cli(['explore', 'direction', run.dir, 'Bright', '--save', '--component', '2', '--flip', '--scale', '1.5', '--backend', 'cpu'])
    expect(saved).toMatchObject({ code: 0, err: [] })
    expect(saved.out.at(-1)).toBe('Saved Bright (PC2 of step 100, ×1.5), flipped.')
    const stored = JSON.parse(await fsp.readFile(join(run.dir, 'directions.json'), 'utf8')) as { directions: { name: string; vector: number[]; component: number }[] }
    const pcs = JSON.parse((await cli(['explore', 'directions', run.dir, '--json'])).out.join('\n')) as { components: { vector: number[] }[] }
    expect(stored.directions[0]!.vector[0]).toBeCloseTo(-pcs.components[1]!.vector[0]!, 5)
    expect((await cli(['explore', 'direction', run.dir, 'bright'])).out).toEqual(['Bright (PC2 of step 100, ×1.5)'])
    expect((await cli(['explore', 'direction', run.dir, 'Bright', '--rename', 'Glow'])).out).toEqual(['Renamed it: Glow (PC2 of step 100, ×1.5)'])
    const list = await cli(['explore', 'directions', run.dir])
    expect(list.out.at(-1)).toBe('Saved directions (1): Glow (PC2 of step 100, ×1.5)')
    expect((await cli(['explore', 'direction', run.dir, 'Temp', '--save', '--component', '1'])).code).toBe(0)
    expect((await cli(['explore', 'direction', run.dir, 'temp', '--delete'])).out).toEqual(['Deleted the direction “temp”.'])
  })

  it('apply: one image per amount (each with its latent), amount 0 the seed itself, and a strip', async () => {
    const out = join(root, 'strip')
    const r = await cli(['explore', 'apply', run.dir, '--seed', '7', '--direction', 'glow', '--amounts', '-2,0,2', '--out', out, '--backend', 'cpu'])
    expect(r).toMatchObject({ code: 0, err: [] })
    expect(r.out.at(-1)).toBe(`Wrote 3 images of seed 7 along Glow (amounts -2, 0, 2; step 100) and strip.png to ${out}`)
    expect((await fsp.readdir(out)).sort()).toEqual(['01-amount-2.00.png', '02-amount+0.00.png', '03-amount+2.00.png', 'strip.png'])
    const text = readPngText(await fsp.readFile(join(out, '03-amount+2.00.png')))
    expect(text).toMatchObject({ direction: 'Glow', amount: '2', 'source-seed': '7' })
    expect(text.latent!.split(',')).toHaveLength(16)
    const seed = await cli(['generate', run.dir, '--count', '1', '--seed', '7', '--out', join(root, 'seed7'), '--backend', 'cpu'])
    expect(seed.code).toBe(0)
    const own = await sharp(join(root, 'seed7', (await fsp.readdir(join(root, 'seed7'))).find((f) => f.startsWith('seed'))!)).raw().toBuffer()
    expect((await sharp(join(out, '02-amount+0.00.png')).raw().toBuffer()).equals(own)).toBe(true)
    expect((await sharp(join(out, '03-amount+2.00.png')).raw().toBuffer()).equals(own)).toBe(false)
    // A moved image can be moved again: its PNG carries the latent.
    const again = await cli(['explore', 'apply', run.dir, '--from-png', join(out, '03-amount+2.00.png'), '--direction', 'pc1', '--amounts', '0', '--out', join(root, 'strip2'), '--backend', 'cpu'])
    expect(again.code).toBe(0)
    expect((await sharp(join(root, 'strip2', '01-amount+0.00.png')).raw().toBuffer()).equals(await sharp(join(out, '03-amount+2.00.png')).raw().toBuffer())).toBe(true)
    const meta = await sharp(join(out, 'strip.png')).metadata()
    expect(meta.width! / meta.height!).toBeGreaterThan(2.5)
  })

  it('walks: keyframes moved along directions, and a loop along one direction', async () => {
    const frames = join(root, 'walk-frames')
    const r = await cli(['walk', run.dir, '--keyframes', '3,3+glow:2@1,5+pc1:-1.5+pc2:1', '--fps', '4', '--seconds', '3', '--format', 'png', '--out', frames, '--backend', 'cpu'])
    expect(r).toMatchObject({ code: 0, err: [] })
    expect(r.out.at(-1)).toMatch(/^Wrote 12 PNG frames \(keyframes 3, 3\+glow:2, 5\+pc1:-1.5\+pc2:1, 4 fps, step 100\)/)
    const along = join(root, 'along.gif')
    const a = await cli(['walk', run.dir, '--seeds', '3', '--along', 'Glow', '--amount', '2.5', '--fps', '4', '--out', along, '--backend', 'cpu'])
    expect(a).toMatchObject({ code: 0, err: [] })
    expect(a.out.at(-1)).toBe(`Wrote a 16-frame looping GIF (seed 3 along Glow, ±2.5, 4 fps, step 100) to ${along}`)
    expect((await sharp(along).metadata()).pages).toBe(16)
    // Frame 0 is the seed itself; frame 4 (a quarter of the loop) is the seed moved +2.5 along the direction.
    const strip = join(root, 'along-check')
    expect((await cli(['explore', 'apply', run.dir, '--seed', '3', '--direction', 'glow', '--amounts', '0,2.5', '--out', strip, '--backend', 'cpu'])).code).toBe(0)
    const png = join(root, 'along-frames')
    expect((await cli(['walk', run.dir, '--seeds', '3', '--along', 'glow', '--amount', '2.5', '--fps', '4', '--format', 'png', '--out', png, '--backend', 'cpu'])).code).toBe(0)
    const frame = async (f: string): Promise<Buffer> => sharp(f).removeAlpha().raw().toBuffer()
    expect((await frame(join(png, 'frame-0000.png'))).equals(await frame(join(strip, '01-amount+0.00.png')))).toBe(true)
    expect((await frame(join(png, 'frame-0004.png'))).equals(await frame(join(strip, '02-amount+2.50.png')))).toBe(true)
  })

  const nowhere = '/nonexistent/run-folder'
  const bad: [string, () => string[], RegExp][] = [
    ['directions: no run', () => ['explore', 'directions'], /needs one run folder/],
    ['directions: unknown run', () => ['explore', 'directions', nowhere], /No run at/],
    ['directions: count 0', () => ['explore', 'directions', run.dir, '--count', '0'], /--count must be between 1 and 16/],
    ['directions: count 17', () => ['explore', 'directions', run.dir, '--count', '17'], /--count must be between 1 and 16/],
    ['directions: too few samples', () => ['explore', 'directions', run.dir, '--samples', '10'], /--samples must be between 1024 and 16384/],
    ['directions: unknown checkpoint', () => ['explore', 'directions', run.dir, '--checkpoint', 'step-000999'], /No checkpoint step-000999/],
    ['apply: no direction', () => ['explore', 'apply', run.dir, '--seed', '1', '--out', '/tmp/x'], /--direction is required/],
    ['apply: no out', () => ['explore', 'apply', run.dir, '--seed', '1', '--direction', '1'], /--out is required/],
    ['apply: seed and png', () => ['explore', 'apply', run.dir, '--seed', '1', '--from-png', 'a.png', '--direction', '1', '--out', '/tmp/x'], /either --seed S or --from-png/],
    ['apply: amounts not numbers', () => ['explore', 'apply', run.dir, '--seed', '1', '--direction', '1', '--amounts', '1,x', '--out', '/tmp/x'], /--amounts: Amounts must be numbers/],
    ['apply: unknown saved direction', () => ['explore', 'apply', run.dir, '--seed', '1', '--direction', 'smile', '--out', '/tmp/x', '--backend', 'cpu'], /no saved direction “smile”/],
    ['apply: component past the last', () => ['explore', 'apply', run.dir, '--seed', '1', '--direction', 'pc40', '--out', '/tmp/x', '--backend', 'cpu'], /numbered 1 to 16 \(got 40\)/],
    ['direction: no name', () => ['explore', 'direction', run.dir], /needs a run folder and a direction name/],
    ['direction: save without component', () => ['explore', 'direction', run.dir, 'smile', '--save'], /--save needs --component N/],
    ['direction: a component’s name', () => ['explore', 'direction', run.dir, 'pc2', '--save', '--component', '2'], /names a principal component/],
    ['direction: name with a plus', () => ['explore', 'direction', run.dir, 'a+b', '--save', '--component', '2'], /cannot hold \+/],
    ['direction: two actions', () => ['explore', 'direction', run.dir, 'glow', '--delete', '--rename', 'x'], /give one of --save, --rename or --delete/],
    ['direction: flip without save', () => ['explore', 'direction', run.dir, 'glow', '--flip'], /go with --save/],
    ['direction: delete unknown', () => ['explore', 'direction', run.dir, 'nothing', '--delete'], /no saved direction “nothing”/],
    ['direction: scale 0', () => ['explore', 'direction', run.dir, 'x', '--save', '--component', '1', '--scale', '0'], /--scale must be between 0.01 and 100/]
  ]
  for (const [name, argv, message] of bad)
    it(`bad input, one line and exit code 2: ${name}`, async () => {
      const r = await cli(argv())
      expect(r.code).toBe(2)
      expect(r.err).toHaveLength(1)
      expect(r.err[0]).toMatch(/^gan-studio explore/)
      expect(r.err[0]).toMatch(message)
    })

  const badWalks: [string, () => string[], RegExp][] = [
    ['along with two seeds', () => ['walk', run.dir, '--seeds', '1,2', '--along', 'pc1'], /give one seed/],
    ['along without seeds', () => ['walk', run.dir, '--favorites', '--along', 'pc1'], /give it with --seeds S/],
    ['amount without along', () => ['walk', run.dir, '--seeds', '1,2', '--amount', '2'], /--amount goes with --along/],
    ['a move without an amount', () => ['walk', run.dir, '--keyframes', '1,2+glow'], /is not SEED\[\+DIRECTION:AMOUNT\]/],
    ['a move along an unknown direction', () => ['walk', run.dir, '--keyframes', '1,2+smile:1', '--backend', 'cpu'], /no saved direction “smile”/]
  ]
  for (const [name, argv, message] of badWalks)
    it(`walk bad input, one line and exit code 2: ${name}`, async () => {
      const r = await cli(argv())
      expect(r.code).toBe(2)
      expect(r.err).toHaveLength(1)
      expect(r.err[0]).toMatch(/^gan-studio walk/)
      expect(r.err[0]).toMatch(message)
    })
})
