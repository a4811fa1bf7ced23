import { describe, expect, it } from 'vitest'
import { StudioError } from '@shared/errors'
import { parseCssColour } from '../../../../src/main/trainer/data/colour'

const rgb = (s: string): [number, number, number] => {
  const c = parseCssColour(s)
  return [c.r, c.g, c.b]
}

describe('parseCssColour', () => {
  it('reads named colours, case- and space-insensitively', () => {
    expect(rgb('white')).toEqual([255, 255, 255])
    expect(rgb('  RebeccaPurple ')).toEqual([0x66, 0x33, 0x99])
    expect(rgb('grey')).toEqual(rgb('gray'))
    expect(parseCssColour('black').hex).toBe('#000000')
  })

  it('reads hex forms', () => {
    expect(rgb('#fff')).toEqual([255, 255, 255])
    expect(rgb('#1E1e1E')).toEqual([30, 30, 30])
    expect(rgb('#0a0b0cff')).toEqual([10, 11, 12])
    expect(rgb('#abcf')).toEqual([0xaa, 0xbb, 0xcc])
    expect(parseCssColour('#ABC').hex).toBe('#aabbcc')
  })

  it('reads rgb() with commas, spaces, percentages and opaque alpha', () => {
    expect(rgb('rgb(30, 60, 90)')).toEqual([30, 60, 90])
    expect(rgb('rgb(30 60 90)')).toEqual([30, 60, 90])
    expect(rgb('rgb(100%, 0%, 50%)')).toEqual([255, 0, 128])
    expect(rgb('rgba(1, 2, 3, 1)')).toEqual([1, 2, 3])
    expect(rgb('rgb(1 2 3 / 100%)')).toEqual([1, 2, 3])
    expect(rgb('rgb(300, -5, 12.6)')).toEqual([255, 0, 13])
  })

  it('reads hsl()', () => {
    expect(rgb('hsl(0, 100%, 50%)')).toEqual([255, 0, 0])
    expect(rgb('hsl(120deg 100% 25%)')).toEqual([0, 128, 0])
    expect(rgb('hsl(0.5turn, 100%, 50%)')).toEqual([0, 255, 255])
  })

  it.each([
    ['', /empty/],
    ['transparent', /opaque/],
    ['#12', /not a valid hex colour/],
    ['#gggggg', /not a valid hex colour/],
    ['#00000080', /partly transparent/],
    ['rgba(0, 0, 0, 0.5)', /partly transparent/],
    ['rgb(0 0 0 / 50%)', /partly transparent/],
    ['rgb(1, 2)', /not a valid rgb\(\) colour/],
    ['rgb(a, b, c)', /not a number/],
    ['hsl(10, x, 5%)', /not a valid hsl\(\) colour/],
    ['blurple', /not a colour GAN Studio understands/],
    ['constructor', /not a colour GAN Studio understands/],
    ['url(#x)', /not a colour/]
  ])('refuses %j with a bad-input error that says why', (input, why) => {
    let caught: unknown
    try {
      parseCssColour(input)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(StudioError)
    expect((caught as StudioError).code).toBe('bad-input')
    expect((caught as StudioError).message).toMatch(why)
    expect((caught as StudioError).message).toContain('Background colour')
  })
})
