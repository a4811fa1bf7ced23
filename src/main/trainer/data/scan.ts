import { promises as fsp, type Dirent } from 'node:fs'
import { extname, join, relative, resolve, sep } from 'node:path'
import { StudioError } from '@shared/errors'
import type { SkippedFile } from '@shared/datasets'

/** Extensions sharp decodes here, lower-case, with the dot. */
export const IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.apng', '.webp', '.gif', '.tif', '.tiff', '.avif', '.svg'
]
const SUPPORTED = new Set(IMAGE_EXTENSIONS)

/**
 * Image formats an artist's folder often holds that we cannot decode. They are listed as skipped
 * (with what to do about them) rather than ignored, so nobody wonders where their work went.
 */
const UNSUPPORTED: Record<string, string> = {
  '.bmp': 'BMP', '.ico': 'ICO', '.tga': 'TGA', '.heic': 'HEIC', '.heif': 'HEIF', '.jxl': 'JPEG XL',
  '.exr': 'OpenEXR', '.hdr': 'Radiance HDR', '.psd': 'Photoshop', '.psb': 'Photoshop', '.kra': 'Krita',
  '.xcf': 'GIMP', '.procreate': 'Procreate', '.clip': 'Clip Studio', '.afphoto': 'Affinity Photo',
  '.afdesign': 'Affinity Designer', '.cr2': 'camera RAW', '.cr3': 'camera RAW', '.nef': 'camera RAW',
  '.arw': 'camera RAW', '.dng': 'camera RAW', '.orf': 'camera RAW', '.rw2': 'camera RAW', '.raf': 'camera RAW'
}

export interface ScanEntry {
  /** Absolute path. */
  path: string
  /** Path relative to the scanned folder, with `/` separators on every platform. */
  rel: string
  size: number
  mtimeMs: number
}

export interface ScanResult {
  /** Files with a supported image extension, sorted by `rel` (code-point order: the same everywhere). */
  images: ScanEntry[]
  /** Image files in formats we cannot read, and folders we could not open, with the reason. */
  skipped: SkippedFile[]
  /** Everything that looked like an image: `images` plus unsupported formats, for the fingerprint. */
  unsupported: ScanEntry[]
}

/**
 * Resolves a source folder to an absolute path, or says clearly why it cannot be used:
 * `not-found` ("No folder at …") when nothing is there, `bad-input` for a file.
 */
export async function resolveSourceFolder(source: string): Promise<string> {
  if (typeof source !== 'string' || source.trim() === '') throw new StudioError('bad-input', 'No image folder was given.')
  const abs = resolve(source)
  let stat
  try {
    stat = await fsp.stat(abs)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') throw new StudioError('bad-input', `Permission denied reading ${abs}`)
    throw new StudioError('not-found', `No folder at ${abs}`)
  }
  if (!stat.isDirectory()) throw new StudioError('bad-input', `${abs} is a file, not a folder; choose the folder that holds your images.`)
  return abs
}

export interface ScanOptions {
  signal?: AbortSignal
  /** Called with the number of image files found so far. */
  onFound?: (found: number) => void
}

/**
 * Walks `root` recursively. Hidden files and folders (".name") and macOS `__MACOSX` folders are
 * skipped; symlinked folders are followed once (loops are detected by real path).
 */
export async function scanImageFolder(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const images: ScanEntry[] = []
  const unsupported: ScanEntry[] = []
  const skipped: SkippedFile[] = []
  const seenDirs = new Set<string>()
  const relOf = (p: string): string => relative(root, p).split(sep).join('/')

  const walk = async (dir: string): Promise<void> => {
    throwIfAborted(options.signal)
    let real: string
    let entries: Dirent[]
    try {
      real = await fsp.realpath(dir)
      if (seenDirs.has(real)) return
      seenDirs.add(real)
      entries = await fsp.readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (dir === root) throw err
      skipped.push({ file: relOf(dir) + '/', reason: `folder could not be read (${describeFsError(err)})` })
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const subdirs: string[] = []
    const files: { path: string; supported: boolean; label?: string }[] = []
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === '__MACOSX') continue
      const path = join(dir, entry.name)
      let isDir = entry.isDirectory()
      let isFile = entry.isFile()
      if (entry.isSymbolicLink()) {
        try {
          const target = await fsp.stat(path)
          isDir = target.isDirectory()
          isFile = target.isFile()
        } catch {
          continue // a dangling link is not an image
        }
      }
      if (isDir) subdirs.push(path)
      else if (isFile) {
        const ext = extname(entry.name).toLowerCase()
        if (SUPPORTED.has(ext)) files.push({ path, supported: true })
        else if (Object.hasOwn(UNSUPPORTED, ext)) files.push({ path, supported: false, label: UNSUPPORTED[ext] })
      }
    }
    const stats = await Promise.all(
      files.map(async (f) => {
        try {
          return await fsp.stat(f.path)
        } catch (err) {
          skipped.push({ file: relOf(f.path), reason: `could not be read (${describeFsError(err)})` })
          return null
        }
      })
    )
    files.forEach((f, i) => {
      const st = stats[i]
      if (!st) return
      const entry: ScanEntry = { path: f.path, rel: relOf(f.path), size: st.size, mtimeMs: st.mtimeMs }
      if (f.supported) images.push(entry)
      else {
        unsupported.push(entry)
        skipped.push({ file: entry.rel, reason: `${f.label} files are not supported; export it as PNG or JPEG to include it` })
      }
    })
    options.onFound?.(images.length)
    for (const sub of subdirs) await walk(sub)
  }

  await walk(root)
  const byRel = (a: { rel?: string; file?: string }, b: { rel?: string; file?: string }): number => {
    const x = a.rel ?? a.file ?? ''
    const y = b.rel ?? b.file ?? ''
    return x < y ? -1 : x > y ? 1 : 0
  }
  images.sort(byRel)
  unsupported.sort(byRel)
  skipped.sort(byRel)
  return { images, skipped, unsupported }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StudioError('cancelled', 'Import cancelled.')
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'ENOENT') return 'it disappeared during the import'
  if (code === 'EISDIR') return 'it is a folder'
  if (code === 'EIO') return 'a disk read error'
  return code ?? (err instanceof Error ? err.message.split('\n')[0]! : String(err))
}
