import { StudioError } from '@shared/errors'

/** An opaque sRGB colour, 0–255 per channel, with its canonical `#rrggbb` spelling. */
export interface Rgb {
  r: number
  g: number
  b: number
  /** Lower-case `#rrggbb`. */
  hex: string
}

/**
 * Parses a CSS colour as a person would type it for a background: a named colour (`white`,
 * `rebeccapurple`), `#rgb`, `#rrggbb`, `#rgba` / `#rrggbbaa` (alpha must be opaque),
 * `rgb(…)` / `rgba(…)` with commas or spaces and numbers or percentages, or `hsl(…)` / `hsla(…)`.
 * Anything else, and any colour with transparency, is a `bad-input` StudioError that says why.
 */
export function parseCssColour(input: string): Rgb {
  const text = String(input).trim().toLowerCase()
  const bad = (why: string): StudioError =>
    new StudioError('bad-input', `Background colour "${String(input).trim()}" ${why}`)

  if (text === '') throw bad('is empty; use a CSS colour such as white, #1e1e1e or rgb(30, 30, 30).')
  if (text === 'transparent' || text === 'currentcolor')
    throw bad('cannot be used: the background has to be an opaque colour.')

  const named = Object.hasOwn(NAMED_COLOURS, text) ? NAMED_COLOURS[text] : undefined
  if (named !== undefined) return fromInts((named >> 16) & 255, (named >> 8) & 255, named & 255)

  if (text.startsWith('#')) {
    const hex = text.slice(1)
    if (!/^[0-9a-f]+$/.test(hex) || ![3, 4, 6, 8].includes(hex.length))
      throw bad('is not a valid hex colour; use #rgb or #rrggbb, e.g. #fff or #1e1e1e.')
    const full = hex.length <= 4 ? [...hex].map((c) => c + c).join('') : hex
    const value = (i: number): number => parseInt(full.slice(i * 2, i * 2 + 2), 16)
    if (full.length === 8 && value(3) !== 255) throw bad('is partly transparent; the background has to be opaque.')
    return fromInts(value(0), value(1), value(2))
  }

  const fn = /^(rgba?|hsla?)\((.*)\)$/.exec(text)
  if (fn) {
    const kind = fn[1]!.startsWith('rgb') ? 'rgb' : 'hsl'
    const args = splitArgs(fn[2]!)
    if (!args || args.colour.length !== 3)
      throw bad(`is not a valid ${kind}() colour; write it like ${kind === 'rgb' ? 'rgb(30, 30, 30)' : 'hsl(210, 40%, 20%)'}.`)
    if (args.alpha !== undefined) {
      const a = parseNumberOrPercent(args.alpha, 1)
      if (a === null) throw bad('has an alpha value that is not a number.')
      if (a < 1) throw bad('is partly transparent; the background has to be opaque.')
    }
    if (kind === 'rgb') {
      const parts = args.colour.map((p) => parseNumberOrPercent(p, 255))
      if (parts.some((p) => p === null)) throw bad('has a channel that is not a number or a percentage.')
      const [r, g, b] = parts as number[]
      return fromInts(clampByte(r!), clampByte(g!), clampByte(b!))
    }
    const h = parseHue(args.colour[0]!)
    const s = parsePercent(args.colour[1]!)
    const l = parsePercent(args.colour[2]!)
    if (h === null || s === null || l === null)
      throw bad('is not a valid hsl() colour; write it like hsl(210, 40%, 20%).')
    const [r, g, b] = hslToRgb(h, s, l)
    return fromInts(r, g, b)
  }

  throw bad('is not a colour GAN Studio understands; use a CSS colour name (white), #rrggbb or rgb(r, g, b).')
}

function fromInts(r: number, g: number, b: number): Rgb {
  const h = (v: number): string => v.toString(16).padStart(2, '0')
  return { r, g, b, hex: `#${h(r)}${h(g)}${h(b)}` }
}

function clampByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)))
}

/** "1, 2, 3" | "1 2 3" | "1 2 3 / 0.5" | "1, 2, 3, 0.5" → colour parts and optional alpha. */
function splitArgs(inner: string): { colour: string[]; alpha?: string } | null {
  const body = inner.trim()
  if (body === '') return null
  if (body.includes(',')) {
    const parts = body.split(',').map((p) => p.trim())
    if (parts.some((p) => p === '' || /\s/.test(p))) return null
    if (parts.length === 4) return { colour: parts.slice(0, 3), alpha: parts[3]! }
    return { colour: parts }
  }
  const [main, alpha, ...rest] = body.split('/').map((p) => p.trim())
  if (rest.length > 0 || main === undefined || main === '' || alpha === '') return null
  const parts = main.split(/\s+/)
  return alpha === undefined ? { colour: parts } : { colour: parts, alpha }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/

/** "128" → 128, "50%" → scale/2; null if neither. */
function parseNumberOrPercent(text: string, scale: number): number | null {
  if (text.endsWith('%')) {
    const n = text.slice(0, -1)
    return NUMBER.test(n) ? (Number(n) / 100) * scale : null
  }
  return NUMBER.test(text) ? Number(text) : null
}

function parsePercent(text: string): number | null {
  const n = text.endsWith('%') ? text.slice(0, -1) : text
  if (!NUMBER.test(n)) return null
  return Math.min(1, Math.max(0, Number(n) / 100))
}

function parseHue(text: string): number | null {
  const m = /^(.*?)(deg|turn|rad|grad)?$/.exec(text)
  if (!m || !NUMBER.test(m[1]!)) return null
  const v = Number(m[1])
  const deg = m[2] === 'turn' ? v * 360 : m[2] === 'rad' ? (v * 180) / Math.PI : m[2] === 'grad' ? v * 0.9 : v
  return ((deg % 360) + 360) % 360
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const c = (1 - Math.abs(2 * l - 1)) * s
  const hp = h / 60
  const x = c * (1 - Math.abs((hp % 2) - 1))
  const [r1, g1, b1] =
    hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x]
  const m = l - c / 2
  return [clampByte((r1 + m) * 255), clampByte((g1 + m) * 255), clampByte((b1 + m) * 255)]
}

/** The CSS Color Module level 4 named colours. */
const NAMED_COLOURS: Record<string, number> = {
  aliceblue: 0xf0f8ff, antiquewhite: 0xfaebd7, aqua: 0x00ffff, aquamarine: 0x7fffd4, azure: 0xf0ffff,
  beige: 0xf5f5dc, bisque: 0xffe4c4, black: 0x000000, blanchedalmond: 0xffebcd, blue: 0x0000ff,
  blueviolet: 0x8a2be2, brown: 0xa52a2a, burlywood: 0xdeb887, cadetblue: 0x5f9ea0, chartreuse: 0x7fff00,
  chocolate: 0xd2691e, coral: 0xff7f50, cornflowerblue: 0x6495ed, cornsilk: 0xfff8dc, crimson: 0xdc143c,
  cyan: 0x00ffff, darkblue: 0x00008b, darkcyan: 0x008b8b, darkgoldenrod: 0xb8860b, darkgray: 0xa9a9a9,
  darkgreen: 0x006400, darkgrey: 0xa9a9a9, darkkhaki: 0xbdb76b, darkmagenta: 0x8b008b, darkolivegreen: 0x556b2f,
  darkorange: 0xff8c00, darkorchid: 0x9932cc, darkred: 0x8b0000, darksalmon: 0xe9967a, darkseagreen: 0x8fbc8f,
  darkslateblue: 0x483d8b, darkslategray: 0x2f4f4f, darkslategrey: 0x2f4f4f, darkturquoise: 0x00ced1,
  darkviolet: 0x9400d3, deeppink: 0xff1493, deepskyblue: 0x00bfff, dimgray: 0x696969, dimgrey: 0x696969,
  dodgerblue: 0x1e90ff, firebrick: 0xb22222, floralwhite: 0xfffaf0, forestgreen: 0x228b22, fuchsia: 0xff00ff,
  gainsboro: 0xdcdcdc, ghostwhite: 0xf8f8ff, gold: 0xffd700, goldenrod: 0xdaa520, gray: 0x808080,
  green: 0x008000, greenyellow: 0xadff2f, grey: 0x808080, honeydew: 0xf0fff0, hotpink: 0xff69b4,
  indianred: 0xcd5c5c, indigo: 0x4b0082, ivory: 0xfffff0, khaki: 0xf0e68c, lavender: 0xe6e6fa,
  lavenderblush: 0xfff0f5, lawngreen: 0x7cfc00, lemonchiffon: 0xfffacd, lightblue: 0xadd8e6, lightcoral: 0xf08080,
  lightcyan: 0xe0ffff, lightgoldenrodyellow: 0xfafad2, lightgray: 0xd3d3d3, lightgreen: 0x90ee90,
  lightgrey: 0xd3d3d3, lightpink: 0xffb6c1, lightsalmon: 0xffa07a, lightseagreen: 0x20b2aa,
  lightskyblue: 0x87cefa, lightslategray: 0x778899, lightslategrey: 0x778899, lightsteelblue: 0xb0c4de,
  lightyellow: 0xffffe0, lime: 0x00ff00, limegreen: 0x32cd32, linen: 0xfaf0e6, magenta: 0xff00ff,
  maroon: 0x800000, mediumaquamarine: 0x66cdaa, mediumblue: 0x0000cd, mediumorchid: 0xba55d3,
  mediumpurple: 0x9370db, mediumseagreen: 0x3cb371, mediumslateblue: 0x7b68ee, mediumspringgreen: 0x00fa9a,
  mediumturquoise: 0x48d1cc, mediumvioletred: 0xc71585, midnightblue: 0x191970, mintcream: 0xf5fffa,
  mistyrose: 0xffe4e1, moccasin: 0xffe4b5, navajowhite: 0xffdead, navy: 0x000080, oldlace: 0xfdf5e6,
  olive: 0x808000, olivedrab: 0x6b8e23, orange: 0xffa500, orangered: 0xff4500, orchid: 0xda70d6,
  palegoldenrod: 0xeee8aa, palegreen: 0x98fb98, paleturquoise: 0xafeeee, palevioletred: 0xdb7093,
  papayawhip: 0xffefd5, peachpuff: 0xffdab9, peru: 0xcd853f, pink: 0xffc0cb, plum: 0xdda0dd,
  powderblue: 0xb0e0e6, purple: 0x800080, rebeccapurple: 0x663399, red: 0xff0000, rosybrown: 0xbc8f8f,
  royalblue: 0x4169e1, saddlebrown: 0x8b4513, salmon: 0xfa8072, sandybrown: 0xf4a460, seagreen: 0x2e8b57,
  seashell: 0xfff5ee, sienna: 0xa0522d, silver: 0xc0c0c0, skyblue: 0x87ceeb, slateblue: 0x6a5acd,
  slategray: 0x708090, slategrey: 0x708090, snow: 0xfffafa, springgreen: 0x00ff7f, steelblue: 0x4682b4,
  tan: 0xd2b48c, teal: 0x008080, thistle: 0xd8bfd8, tomato: 0xff6347, turquoise: 0x40e0d0,
  violet: 0xee82ee, wheat: 0xf5deb3, white: 0xffffff, whitesmoke: 0xf5f5f5, yellow: 0xffff00,
  yellowgreen: 0x9acd32
}
