import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { StudioError } from '@shared/errors'
import { childPath, isWithin, resolveFileInside, resolveInside } from '../../src/main/util/safe-path'

vi.mock('electron', () => ({ protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() } }))
const { respondStudioFile, studioUrlPath, handleStudioProtocol } = await import('../../src/main/studio-scheme')
const electron = await import('electron')

let base: string
let home: string
let outside: string

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'gan-safe-')))
  home = join(base, 'home')
  outside = join(base, 'outside')
  mkdirSync(join(home, 'runs', 'r1', 'samples'), { recursive: true })
  mkdirSync(outside)
  writeFileSync(join(home, 'runs', 'r1', 'samples', 'step-000000.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]))
  writeFileSync(join(home, 'runs', 'r1', 'export.html'), '<script>alert(1)</script>')
  writeFileSync(join(home, 'a b%.png'), 'x')
  writeFileSync(join(outside, 'secret.txt'), 'TOP-SECRET-CONTENT')
  symlinkSync(join(outside, 'secret.txt'), join(home, 'link-out.txt'))
  symlinkSync(outside, join(home, 'dir-out'))
  symlinkSync(join(home, 'runs'), join(home, 'runs-link'))
})
afterAll(() => rmSync(base, { recursive: true, force: true }))

function refusedBy(fn: () => unknown): StudioError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(StudioError)
    return err as StudioError
  }
  throw new Error('expected a refusal')
}

describe('resolveInside (pure)', () => {
  it('resolves plain and encoded names inside the root', () => {
    expect(resolveInside(home, 'runs/r1/samples/step-000000.png')).toBe(join(home, 'runs/r1/samples/step-000000.png'))
    expect(resolveInside(home, 'a%20b%25.png')).toBe(join(home, 'a b%.png'))
    expect(resolveInside(home, './runs//r1/')).toBe(join(home, 'runs/r1'))
    // Decoded exactly once: a double-encoded dot-dot is a literal (odd) name inside the root.
    expect(resolveInside(home, '%252e%252e/x')).toBe(join(home, '%2e%2e/x'))
  })

  it.each([
    ['..', 'plain'],
    ['../outside/secret.txt', 'plain'],
    ['runs/../../outside/secret.txt', 'nested'],
    ['%2e%2e/outside/secret.txt', 'encoded dots'],
    ['%2E%2E/outside', 'upper-case encoded dots'],
    ['.%2e/outside', 'half-encoded'],
    ['runs%2f..%2f..%2foutside', 'encoded slashes'],
    ['runs%5c..%5c..%5coutside', 'encoded backslashes'],
    ['runs\\..\\..\\outside', 'backslashes']
  ])('refuses %s (%s)', (path) => {
    expect(refusedBy(() => resolveInside(home, path)).code).toBe('bad-input')
  })

  it.each(['/etc/passwd', '%2fetc%2fpasswd', '\\\\server\\share', 'C:\\Windows\\win.ini', 'c:/x', '//etc/passwd'])(
    'refuses the absolute path %s',
    (path) => {
      expect(refusedBy(() => resolveInside(home, path)).message).toMatch(/absolute|leaves/)
    }
  )

  it('refuses NUL bytes, bad encodings, empty and huge paths', () => {
    for (const path of ['a%00b', 'a\0b', '%E0%A4%A', '', '.', '%', 'x'.repeat(5000)]) {
      expect(refusedBy(() => resolveInside(home, path)).code).toBe('bad-input')
    }
  })

  it('isWithin and childPath', () => {
    expect(isWithin('/a/b', '/a/b')).toBe(true)
    expect(isWithin('/a/b', '/a/b/c')).toBe(true)
    expect(isWithin('/a/b', '/a/bc')).toBe(false)
    expect(isWithin('/a/b', '/a')).toBe(false)
    expect(childPath('/a', 'run-1')).toBe('/a/run-1')
    for (const bad of ['..', '.', '', 'a/b', 'a\\b']) expect(() => childPath('/a', bad)).toThrow(StudioError)
  })
})

describe('resolveFileInside (follows symlinks)', () => {
  it('allows links that stay inside the home', async () => {
    await expect(resolveFileInside(home, 'runs-link/r1/samples/step-000000.png')).resolves.toBe(
      join(home, 'runs/r1/samples/step-000000.png')
    )
  })
  it('refuses a file link and a folder link that lead outside', async () => {
    await expect(resolveFileInside(home, 'link-out.txt')).rejects.toMatchObject({ code: 'bad-input' })
    await expect(resolveFileInside(home, 'dir-out/secret.txt')).rejects.toMatchObject({ code: 'bad-input' })
  })
  it('says not-found for a missing file', async () => {
    await expect(resolveFileInside(home, 'runs/nope.png')).rejects.toMatchObject({ code: 'not-found' })
  })
})

describe('the studio:// protocol', () => {
  it('registers a handler for the scheme', () => {
    handleStudioProtocol(home)
    expect(electron.protocol.handle).toHaveBeenCalledWith('studio', expect.any(Function))
  })

  it('parses studio://home/ URLs only', () => {
    expect(studioUrlPath('studio://home/runs/r1/x.png')).toBe('runs/r1/x.png')
    expect(() => studioUrlPath('studio://other/x.png')).toThrow(StudioError)
    expect(() => studioUrlPath('file:///etc/passwd')).toThrow(StudioError)
    expect(() => studioUrlPath('not a url')).toThrow(StudioError)
  })

  it('serves an image from the home', async () => {
    const res = await respondStudioFile(home, 'studio://home/runs/r1/samples/step-000000.png')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))
  })

  it('sandboxes anything that is not a raster image', async () => {
    const res = await respondStudioFile(home, 'studio://home/runs/r1/export.html')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toMatch(/sandbox/)
  })

  it.each([
    'studio://home/..%2foutside%2fsecret.txt',
    'studio://home/runs%2f..%2f..%2foutside%2fsecret.txt',
    'studio://home/%2Fetc%2Fpasswd',
    'studio://home/link-out.txt',
    'studio://home/dir-out/secret.txt'
  ])('refuses %s', async (url) => {
    const res = await respondStudioFile(home, url)
    expect(res.status).toBe(403)
    expect(await res.text()).not.toContain('TOP-SECRET-CONTENT')
  })

  it('URL normalisation keeps `..` inside the home (never outside)', async () => {
    // new URL() collapses ../ and %2e%2e/ before we see the path: what is left is inside the home.
    for (const url of ['studio://home/../../outside/secret.txt', 'studio://home/%2e%2e/outside/secret.txt', 'studio://home/.%2E/outside/secret.txt']) {
      const res = await respondStudioFile(home, url)
      expect(res.status).toBe(404)
      expect(await res.text()).not.toContain('TOP-SECRET-CONTENT')
    }
  })

  it('404 for missing files and folders, 405 for other methods', async () => {
    expect((await respondStudioFile(home, 'studio://home/runs/none.png')).status).toBe(404)
    expect((await respondStudioFile(home, 'studio://home/runs')).status).toBe(404)
    expect((await respondStudioFile(home, 'studio://home/runs/r1/samples/step-000000.png', 'POST')).status).toBe(405)
  })
})
