import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REQUEST_NAMES, type RequestName, type Reply } from '@shared/contract'
import { createDispatcher, type Dispatch } from '../../../src/main/bridge/dispatch'
import { handlers } from '../../../src/main/handlers'
import { Studio } from '../../../src/main/services/studio'
import { fakeSpawner } from '../services/fakes'

let base: string
let studio: Studio
let dispatch: Dispatch
const logged: string[] = []

beforeAll(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'gan-handlers-')))
  studio = new Studio({ home: join(base, 'home'), mode: 'browser', spawnTrainer: fakeSpawner().spawn })
  await studio.prepare()
  dispatch = createDispatcher(handlers, studio, { log: (m) => logged.push(m) })

  const pics = join(base, 'pics')
  mkdirSync(join(pics, 'cats'), { recursive: true })
  mkdirSync(join(pics, '.hidden'))
  mkdirSync(join(pics, 'Dogs 10'))
  mkdirSync(join(pics, 'Dogs 9'))
  for (const f of ['a.png', 'b.JPG', 'c.webp', 'notes.txt', '.secret.png']) writeFileSync(join(pics, f), 'x')
  symlinkSync(join(pics, 'cats'), join(pics, 'cats-link'))
  symlinkSync(join(pics, 'missing'), join(pics, 'broken-link'))
})
afterAll(() => rmSync(base, { recursive: true, force: true }))

function expectError(reply: Reply<RequestName>, code: string, pattern?: RegExp): string {
  expect(reply.ok).toBe(false)
  if (reply.ok) throw new Error('unreachable')
  expect(reply.error.code).toBe(code)
  expect(typeof reply.error.message).toBe('string')
  expect(reply.error.message).not.toMatch(/\n\s+at /) // never a stack
  expect(reply.error.message.length).toBeLessThanOrEqual(600)
  if (pattern) expect(reply.error.message).toMatch(pattern)
  return reply.error.message
}

function result<T = unknown>(reply: Reply<RequestName>): T {
  if (!reply.ok) throw new Error(`expected ok, got ${reply.error.code}: ${reply.error.message}`)
  return reply.result as T
}

describe('request names', () => {
  it.each([['nope'], ['__proto__'], ['constructor'], ['toString'], ['hasOwnProperty'], [42], [null], [undefined], [{}]])(
    'refuses %j',
    async (name) => {
      expectError(await dispatch(name, {}), 'invalid-params', /Unknown request/)
    }
  )
})

describe('every request validates its params', () => {
  it.each(REQUEST_NAMES.map((n) => [n]))('%s: wrong type, extra key', async (name) => {
    for (const bad of ['garbage', 42, true, [1, 2]]) {
      expectError(await dispatch(name, bad), 'invalid-params', new RegExp(`^${name.replace('.', '\\.')}: `))
    }
    expectError(await dispatch(name, { zzUnexpected: 1 }), 'invalid-params', /zzUnexpected|Unrecognized/i)
  })

  it('missing fields and wrong field types say which field', async () => {
    expectError(await dispatch('runs.get', {}), 'invalid-params', /id/)
    expectError(await dispatch('runs.get', { id: 5 }), 'invalid-params', /id/)
    expectError(await dispatch('datasets.import', { source: '/x' }), 'invalid-params', /preprocess/)
    expectError(await dispatch('datasets.images', { id: 'ds', offset: -1 }), 'invalid-params', /offset/)
    expectError(await dispatch('datasets.images', { id: 'ds', limit: 1e9 }), 'invalid-params', /limit/)
    expectError(await dispatch('runs.resume', { id: 'r', steps: 1.5 }), 'invalid-params', /steps/)
    expectError(await dispatch('runs.metrics', { id: 'r', sinceStep: 'x' }), 'invalid-params', /sinceStep/)
    expectError(
      await dispatch('runs.start', { config: { source: '/x', preprocess: { resolution: 33 }, steps: -1 } }),
      'invalid-params',
      /config\.preprocess\.resolution: must be 32, 64, 128 or 256.*config\.steps/
    )
    expectError(await dispatch('runs.start', { config: { source: '/x', backend: 'gpu-please' } }), 'invalid-params', /config\.backend/)
    expectError(await dispatch('runs.update', { id: 'r', tags: ['ok', ''] }), 'invalid-params', /tags/)
  })

  it('huge strings are refused before any work', async () => {
    const huge = 'x'.repeat(1_000_000)
    const message = expectError(await dispatch('datasets.import', { source: `/${huge}`, preprocess: {} }), 'invalid-params', /source/)
    expect(message.length).toBeLessThan(600)
    expectError(await dispatch('runs.rename', { id: 'r', name: huge }), 'invalid-params', /name/)
    expectError(await dispatch('runs.update', { id: 'r', note: huge }), 'invalid-params', /note/)
    expectError(await dispatch('runs.get', { id: huge }), 'invalid-params', /id/)
    expectError(await dispatch('fs.listDir', { path: huge }), 'invalid-params', /path/)
    // A huge unknown key is named, but the message stays short.
    expectError(await dispatch('app.info', { [huge]: 1 }), 'invalid-params')
  })

  it.each(['..', '../../etc', 'a/b', '..%2f..', '%2e%2e', '.hidden', '/etc/passwd', 'a\\b', ''])(
    'ids cannot traverse: %j',
    async (id) => {
      for (const name of ['runs.get', 'runs.delete', 'runs.openFolder', 'datasets.delete', 'datasets.images'] as const) {
        expectError(await dispatch(name, { id }), 'invalid-params', /id/)
      }
    }
  )

  it('a relative source folder is refused with an example', async () => {
    expectError(await dispatch('datasets.import', { source: 'pictures', preprocess: {} }), 'invalid-params', /absolute folder path/)
    expectError(await dispatch('datasets.preview', { source: '../x', preprocess: {} }), 'invalid-params', /absolute/)
  })

  it('a __proto__ key cannot pollute anything', async () => {
    const params = JSON.parse('{"__proto__": {"polluted": true}, "id": "r"}') as unknown
    const reply = await dispatch('runs.get', params)
    expect(reply.ok).toBe(false)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('missing params count as {}', async () => {
    expect(result<{ mode: string }>(await dispatch('app.info', undefined)).mode).toBe('browser')
    expect(result<{ mode: string }>(await dispatch('app.info', null)).mode).toBe('browser')
  })
})

describe('handlers answer with readable errors', () => {
  it('unknown runs and datasets are not-found', async () => {
    expectError(await dispatch('runs.get', { id: 'no-such-run' }), 'not-found')
    expectError(await dispatch('datasets.images', { id: 'no-such-dataset' }), 'not-found')
    expectError(await dispatch('datasets.delete', { id: 'no-such-dataset' }), 'not-found')
  })

  it('a folder that does not exist is not-found, a file is bad-input', async () => {
    expectError(await dispatch('datasets.import', { source: join(base, 'nope'), preprocess: {} }), 'not-found', /No folder/)
    expectError(await dispatch('datasets.preview', { source: join(base, 'pics', 'a.png'), preprocess: {} }), 'bad-input', /file, not a folder/)
  })

  it('dialog.pickFolder is desktop-only; runs.openFolder just says where in a browser', async () => {
    expectError(await dispatch('dialog.pickFolder', {}), 'bad-input', /only available in the desktop app/)
  })

  it('app.info', async () => {
    expect(result(await dispatch('app.info', {}))).toMatchObject({ home: join(base, 'home'), mode: 'browser', platform: process.platform })
  })
})

describe('errors thrown by a handler', () => {
  it('cross as { code, message }: Node errors get a studio code, nothing carries a stack', async () => {
    const throwing = (err: unknown) =>
      createDispatcher({ ...handlers, 'app.info': async () => { throw err } }, studio, { log: (m) => logged.push(m) })
    const eacces = Object.assign(new Error('EACCES: permission denied, open /x'), { code: 'EACCES', path: '/x' })
    expect(await throwing(eacces)('app.info', {})).toEqual({ ok: false, error: { code: 'io', message: 'Permission denied: /x' } })
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/y' })
    expect(await throwing(enoent)('app.info', {})).toEqual({ ok: false, error: { code: 'not-found', message: 'Not found: /y' } })
    const boom = new TypeError('Cannot read properties of undefined\n    at secret (/src/x.ts:1:1)')
    expect(await throwing(boom)('app.info', {})).toEqual({ ok: false, error: { code: 'internal', message: 'Cannot read properties of undefined' } })
    expect(logged.at(-1)).toBe('app.info failed')
    expect(await throwing('a string')('app.info', {})).toEqual({ ok: false, error: { code: 'internal', message: 'a string' } })
  })
})

describe('fs.listDir (the browser folder picker)', () => {
  it('lists sub-folders (hidden left out, links followed, natural order) and counts images', async () => {
    const listing = result<{ path: string; parent: string; entries: { name: string; isDir: boolean; path: string }[]; imageCount: number }>(
      await dispatch('fs.listDir', { path: join(base, 'pics') })
    )
    expect(listing.path).toBe(join(base, 'pics'))
    expect(listing.parent).toBe(base)
    expect(listing.entries.map((e) => e.name)).toEqual(['cats', 'cats-link', 'Dogs 9', 'Dogs 10'])
    expect(listing.entries.every((e) => e.isDir && e.path === join(base, 'pics', e.name))).toBe(true)
    expect(listing.imageCount).toBe(3)
  })

  it('defaults to the home folder, expands ~, and / has no parent', async () => {
    expect(result<{ path: string }>(await dispatch('fs.listDir', {})).path).toBe(homedir())
    expect(result<{ path: string }>(await dispatch('fs.listDir', { path: '~' })).path).toBe(homedir())
    expect(result<{ parent: string | null }>(await dispatch('fs.listDir', { path: '/' })).parent).toBeNull()
  })

  it('clear errors for missing, non-folder, relative and unreadable paths', async () => {
    expectError(await dispatch('fs.listDir', { path: join(base, 'nope') }), 'not-found', /No folder at/)
    expectError(await dispatch('fs.listDir', { path: join(base, 'pics', 'a.png') }), 'bad-input', /is a file, not a folder/)
    expectError(await dispatch('fs.listDir', { path: 'relative/dir' }), 'invalid-params', /absolute/)
    expectError(await dispatch('fs.listDir', { path: '/a\0b' }), 'invalid-params', /NUL/)
    if (process.getuid?.() !== 0) {
      const locked = join(base, 'locked')
      mkdirSync(locked)
      chmodSync(locked, 0o000)
      try {
        expectError(await dispatch('fs.listDir', { path: locked }), 'io', /Permission denied/)
      } finally {
        chmodSync(locked, 0o755)
      }
    }
  })
})
