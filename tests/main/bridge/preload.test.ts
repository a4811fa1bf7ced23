import { beforeEach, describe, expect, it, vi } from 'vitest'
import { EVENT_NAMES, IPC_REQUEST_CHANNEL, REQUEST_NAMES, ipcEventChannel, type StudioBridge } from '@shared/contract'

const exposed: Record<string, unknown> = {}
const listeners = new Map<string, Set<(...args: unknown[]) => void>>()
const invoke = vi.fn()

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
  ipcRenderer: {
    invoke: (...args: unknown[]) => invoke(...args),
    on: (channel: string, fn: (...args: unknown[]) => void) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set())
      listeners.get(channel)!.add(fn)
    },
    removeListener: (channel: string, fn: (...args: unknown[]) => void) => listeners.get(channel)?.delete(fn)
  },
  webUtils: { getPathForFile: () => '/dropped/folder' }
}))

await import('../../../src/preload/index')
const studio = exposed.studio as StudioBridge & { pathForFile(file: unknown): string }

beforeEach(() => invoke.mockReset())

describe('the preload’s window.studio', () => {
  it('has one method per request, on(), fileUrl() and nothing that reaches IPC directly', () => {
    const keys = Object.keys(studio).sort()
    expect(keys).toEqual([...REQUEST_NAMES, 'fileUrl', 'on', 'pathForFile'].sort())
    expect(keys.some((k) => /ipc|send|invoke/i.test(k))).toBe(false)
  })

  it('a request goes over the one request channel and resolves with the result', async () => {
    invoke.mockResolvedValue({ ok: true, result: { version: '1' } })
    await expect(studio['app.info']({})).resolves.toEqual({ version: '1' })
    expect(invoke).toHaveBeenCalledWith(IPC_REQUEST_CHANNEL, 'app.info', {})
    invoke.mockResolvedValue({ ok: true, result: [] })
    await studio['runs.list'](undefined as never)
    expect(invoke).toHaveBeenLastCalledWith(IPC_REQUEST_CHANNEL, 'runs.list', {})
  })

  it('an error reply rejects with a plain { code, message } (it survives the context bridge)', async () => {
    invoke.mockResolvedValue({ ok: false, error: { code: 'invalid-params', message: 'runs.get: id: must be a run or dataset id' } })
    const err = await studio['runs.get']({ id: '..' }).catch((e: unknown) => e)
    expect(err).toEqual({ code: 'invalid-params', message: 'runs.get: id: must be a run or dataset id' })
  })

  it('on() subscribes to the event’s channel without exposing the IPC event, and unsubscribes', () => {
    const seen: unknown[] = []
    const off = studio.on('train.progress', (p) => seen.push(p))
    const channel = ipcEventChannel('train.progress')
    for (const fn of listeners.get(channel)!) fn({ sender: 'secret ipc event' }, { step: 1 })
    expect(seen).toEqual([{ step: 1 }])
    off()
    expect(listeners.get(channel)!.size).toBe(0)
    expect(() => studio.on('not.an.event' as never, () => undefined)).toThrow(/Unknown studio event/)
    expect(EVENT_NAMES).toContain('train.progress')
  })

  it('fileUrl names a studio:// URL with each segment encoded', () => {
    expect(studio.fileUrl('runs/my run/samples/step-000100.png')).toBe('studio://home/runs/my%20run/samples/step-000100.png')
    expect(studio.fileUrl('runs\\a#b?c')).toBe('studio://home/runs/a%23b%3Fc')
  })

  it('pathForFile uses webUtils', () => {
    expect(studio.pathForFile({})).toBe('/dropped/folder')
  })
})
