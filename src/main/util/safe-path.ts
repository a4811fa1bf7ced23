import { constants as fsConstants, promises as fsp } from 'node:fs'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { StudioError } from '@shared/errors'

/**
 * Turning a path that came from the untrusted side (a `studio://home/…` URL, a `/files/…` URL) into
 * a file inside a root folder. Shared by the desktop protocol and `gan-studio serve`.
 *
 * `resolveInside` is pure (string work only) and refuses, with a StudioError:
 * - `..` segments, also when percent-encoded (`%2e%2e`, `%2E.`) or hidden behind encoded
 *   separators (`..%2f`, `%5c..`);
 * - absolute paths (`/etc/passwd`, `C:\…`, `\\server\share`) and empty paths;
 * - NUL bytes and malformed percent-encoding.
 * The URL path is percent-decoded exactly once; a literal `%2e` left after that is just a name.
 *
 * `realPathInside` then follows symlinks on disk and refuses a file whose real location is outside
 * the root's real location.
 */
export function resolveInside(root: string, rawPath: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    throw refused(rawPath, 'it is not a valid URL path')
  }
  if (decoded.includes('\0')) throw refused(rawPath, 'it contains a NUL character')
  if (decoded.length === 0 || decoded.length > 4096) throw refused(rawPath, 'it is empty or too long')
  // Any form of absolute path is refused outright: POSIX, drive letter, UNC, leading backslash.
  if (decoded.startsWith('/') || decoded.startsWith('\\') || /^[A-Za-z]:/.test(decoded) || isAbsolute(decoded)) {
    throw refused(rawPath, 'it is an absolute path')
  }
  const segments = decoded.split(/[\\/]+/)
  if (segments.some((s) => s === '..')) throw refused(rawPath, 'it leaves the folder (..)')
  const parts = segments.filter((s) => s !== '' && s !== '.')
  if (parts.length === 0) throw refused(rawPath, 'it names no file')

  const base = resolve(root)
  const target = resolve(base, ...parts)
  if (!isWithin(base, target)) throw refused(rawPath, 'it leaves the folder')
  return target
}

/** True when `target` is `base` itself or lies below it (both absolute, normalised). */
export function isWithin(base: string, target: string): boolean {
  const rel = relative(base, target)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

/**
 * Follows symlinks: resolves `target` (already inside `root` by name) to its real path and checks
 * that it is still inside the real root. Throws not-found when the file does not exist.
 */
export async function realPathInside(root: string, target: string): Promise<string> {
  const realRoot = await fsp.realpath(root)
  let real: string
  try {
    real = await fsp.realpath(target)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StudioError('not-found', 'No such file in the studio folder.')
    throw err
  }
  if (!isWithin(realRoot, real)) throw new StudioError('bad-input', 'Refused: that file is a link to somewhere outside the studio folder.')
  return real
}

/** Both steps: the safe name, then the safe real file. */
export async function resolveFileInside(root: string, rawPath: string): Promise<string> {
  return realPathInside(root, resolveInside(root, rawPath))
}

/** A path inside `root` for a child named by an id that was validated elsewhere; still checked. */
export function childPath(root: string, name: string): string {
  const target = join(resolve(root), name)
  if (name.length === 0 || /[\\/\0]/.test(name) || name === '.' || name === '..' || !isWithin(resolve(root), target)) {
    throw new StudioError('invalid-params', `"${name.slice(0, 80)}" is not a valid name.`)
  }
  return target
}

function refused(rawPath: string, why: string): StudioError {
  const shown = rawPath.length > 80 ? `${rawPath.slice(0, 80)}…` : rawPath
  return new StudioError('bad-input', `Refused path "${shown}": ${why}. Only files inside the studio folder can be read.`)
}

export interface OpenedFile {
  handle: fsp.FileHandle
  /** The real path that was checked to be inside the root. */
  real: string
  size: number
}

/**
 * Opens a file inside `root` for reading, safely against a folder being swapped for a symlink
 * while the request runs: the file is opened once (non-blocking, so a FIFO cannot hang the
 * server), then what was opened is checked: on Linux the kernel's path of the descriptor must lie
 * inside the root's real path; elsewhere the real path by name must lie inside and its device and
 * inode must be the descriptor's (a narrower window, not none). The caller reads from the
 * returned handle only, never by name again, and closes it. A plain file only; anything else is
 * not-found.
 *
 * What this trusts: the contents of the root. A hard link inside it to a file elsewhere is the
 * same file as far as the disk can tell, and is served.
 */
export async function openFileInside(root: string, rawPath: string): Promise<OpenedFile> {
  return openResolvedInside(root, resolveInside(root, rawPath))
}

/** `openFileInside` for a path already resolved by name (`resolveInside`). */
export async function openResolvedInside(root: string, target: string): Promise<OpenedFile> {
  let handle: fsp.FileHandle
  try {
    handle = await fsp.open(target, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0) | (fsConstants.O_NOCTTY ?? 0))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new StudioError('not-found', 'No such file in the studio folder.')
    if (code === 'ELOOP' || code === 'EACCES' || code === 'EPERM') throw new StudioError('bad-input', 'Refused: that file cannot be read.')
    throw err
  }
  try {
    const opened = await handle.stat()
    if (!opened.isFile()) throw new StudioError('not-found', 'Not a file.')
    const realRoot = await fsp.realpath(root)
    // Where the kernel says the opened file is (Linux): no name is looked up again.
    const fdPath = await fsp.readlink(`/proc/self/fd/${handle.fd}`).catch(() => null)
    if (fdPath !== null && fdPath.startsWith('/')) {
      if (!isWithin(realRoot, fdPath)) throw new StudioError('bad-input', 'Refused: that file is outside the studio folder.')
      return { handle, real: fdPath, size: opened.size }
    }
    // Elsewhere: the real path by name must be inside, and name the very file that was opened.
    const real = await realPathInside(root, target)
    const named = await fsp.stat(real)
    if (named.dev !== opened.dev || named.ino !== opened.ino) {
      throw new StudioError('bad-input', 'Refused: the file changed while it was being opened.')
    }
    return { handle, real, size: opened.size }
  } catch (err) {
    await handle.close().catch(() => undefined)
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StudioError('not-found', 'No such file in the studio folder.')
    throw err
  }
}
