/**
 * A picture file chosen or dropped in the studio, made small enough to send over the studio's
 * connection (the browser studio caps one message at 256 KiB). Files that fit are sent as they are,
 * so the studio decodes and crops the original; larger ones are scaled down here first, keeping
 * their aspect ratio (the studio still crops or pads them as the run's dataset was) and
 * transparency (PNG, else WebP), to no less than `minSide` pixels on the longer side.
 */

/** Data-URL characters a picture may take (base64 of ~180 KB), leaving room for the request around it. */
export const MAX_DATA_URL_CHARS = 240_000

export const IMAGE_FILE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/avif', 'image/tiff', 'image/svg+xml']

/** The longer sides to try, largest first, for an image of longer side `side` (never upscaled). */
export function scaleSteps(side: number, minSide: number): number[] {
  const out: number[] = []
  for (let s = Math.min(side, 1024); s >= minSide; s = Math.floor(s * 0.7)) out.push(s)
  if (out.length === 0 || out[out.length - 1]! > minSide) out.push(Math.min(side, minSide))
  return out
}

function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.onerror = () => reject(new Error('The file could not be read.'))
    reader.readAsDataURL(blob)
  })
}

function canvasBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality))
}

/** The file as an image data URL no longer than MAX_DATA_URL_CHARS; throws a sentence a person can read. */
export async function imageFileDataUrl(file: File, minSide: number): Promise<string> {
  if (file.type && !file.type.startsWith('image/')) throw new Error(`${file.name} is not an image.`)
  if (file.size === 0) throw new Error(`${file.name} is empty.`)
  if (Math.ceil(file.size / 3) * 4 + 40 <= MAX_DATA_URL_CHARS) {
    const url = await readAsDataUrl(file)
    // Some systems give no type; the studio decodes by content, the URL only has to say "image".
    return url.startsWith('data:image/') ? url : url.replace(/^data:[^;,]*/, 'data:image/unknown')
  }
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file)
  } catch {
    throw new Error(`${file.name} could not be read as an image.`)
  }
  try {
    const side = Math.max(bitmap.width, bitmap.height)
    for (const target of scaleSteps(side, minSide)) {
      const k = target / side
      const canvas = document.createElement('canvas')
      canvas.width = Math.max(1, Math.round(bitmap.width * k))
      canvas.height = Math.max(1, Math.round(bitmap.height * k))
      const ctx = canvas.getContext('2d')
      if (!ctx) break
      ctx.imageSmoothingQuality = 'high'
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height)
      for (const [type, quality] of [['image/png', undefined], ['image/webp', 0.92]] as const) {
        const blob = await canvasBlob(canvas, type, quality)
        if (blob && blob.type === type && Math.ceil(blob.size / 3) * 4 + 40 <= MAX_DATA_URL_CHARS) return readAsDataUrl(blob)
      }
    }
  } finally {
    bitmap.close()
  }
  throw new Error(`${file.name} is too large to send to the studio, even scaled down.`)
}
