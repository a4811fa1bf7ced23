import { describe, expect, it, vi } from 'vitest'
import { IPC_REQUEST_CHANNEL, ipcEventChannel } from '@shared/contract'

const handlers = new Map<string, (...args: unknown[]) => unknown>()
const sent: unknown[][] = []
vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, fn: (...args: unknown[]) => unknown) => handlers.set(channel, fn),
    removeHandler: (channel: string) => handlers.delete(channel)
  },
  BrowserWindow: {
    getAllWindows: () => [
      { webContents: { isDestroyed: () => false, send: (...args: unknown[]) => sent.push(args) } },
      { webContents: { isDestroyed: () => true, send: () => sent.push(['destroyed']) } }
    ]
  }
}))

const { registerIpcBridge, ipcEventSink } = await import('../../../src/main/bridge/ipc')

describe('the IPC bridge (main side)', () => {
  it('dispatches requests from our page and refuses others', async () => {
    const dispatch = vi.fn(async () => ({ ok: true as const, result: 'yes' as never }))
    const unregister = registerIpcBridge(dispatch, { isTrustedSender: (url) => url.startsWith('file:///app/') })
    const handle = handlers.get(IPC_REQUEST_CHANNEL)!
    expect(await handle({ senderFrame: { url: 'file:///app/index.html' } }, 'app.info', {})).toEqual({ ok: true, result: 'yes' })
    expect(dispatch).toHaveBeenCalledWith('app.info', {})
    expect(await handle({ senderFrame: { url: 'https://evil.example/' } }, 'app.info', {})).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' }
    })
    expect(await handle({ senderFrame: null }, 'app.info', {})).toMatchObject({ ok: false })
    expect(dispatch).toHaveBeenCalledTimes(1)
    unregister()
    expect(handlers.has(IPC_REQUEST_CHANNEL)).toBe(false)
  })

  it('sends events to every live window on the event’s channel', () => {
    ipcEventSink('train.log', { runId: null, level: 'info', message: 'hi', time: 't' })
    expect(sent).toEqual([[ipcEventChannel('train.log'), { runId: null, level: 'info', message: 'hi', time: 't' }]])
  })
})
