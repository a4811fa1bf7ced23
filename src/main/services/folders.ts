import { promises as fsp, type Dirent } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, extname, join } from 'node:path'
import type { DirEntry, Results } from '@shared/contract'
import { StudioError } from '@shared/errors'
import { IMAGE_EXTENSIONS } from '../trainer/data/scan'
import { requireAbsolute } from './datasets'

const IMAGE_EXT = new Set(IMAGE_EXTENSIONS)
/** A folder picker never needs more; the rest is summarised by `truncated`. */
const MAX_ENTRIES = 5000

/**
 * One folder, for the browser's in-app folder picker: its sub-folders (hidden ones left out,
 * symlinks to folders followed), how many images it holds directly, and its parent.
 * Missing, unreadable and non-folder paths give a sentence saying which.
 */
export async function listFolder(path: string | undefined): Promise<Results['fs.listDir']> {
  const dir = requireAbsolute(path ?? homedir(), 'path')
  let dirents: Dirent[]
  try {
    const stat = await fsp.stat(dir)
    if (!stat.isDirectory()) throw new StudioError('bad-input', `${dir} is a file, not a folder.`)
    dirents = await fsp.readdir(dir, { withFileTypes: true })
  } catch (err) {
    throw folderError(err, dir)
  }
  const entries: DirEntry[] = []
  let imageCount = 0
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue
    let isDir = d.isDirectory()
    if (d.isSymbolicLink()) {
      try {
        isDir = (await fsp.stat(join(dir, d.name))).isDirectory()
      } catch {
        continue // a broken link
      }
    }
    if (isDir) {
      if (entries.length < MAX_ENTRIES) entries.push({ name: d.name, path: join(dir, d.name), isDir: true })
    } else if (IMAGE_EXT.has(extname(d.name).toLowerCase())) {
      imageCount++
    }
  }
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }))
  const parent = dirname(dir)
  return { path: dir, parent: parent === dir ? null : parent, entries, imageCount }
}

function folderError(err: unknown, dir: string): StudioError {
  if (err instanceof StudioError) return err
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new StudioError('not-found', `No folder at ${dir}.`)
  if (code === 'ENOTDIR') return new StudioError('bad-input', `${dir} is not a folder.`)
  if (code === 'EACCES' || code === 'EPERM') return new StudioError('io', `Permission denied: cannot open ${dir}.`)
  if (code === 'ELOOP') return new StudioError('bad-input', `${dir} is a link that points to itself.`)
  return new StudioError('io', `Cannot open ${dir}: ${(err as Error).message ?? String(err)}`)
}
