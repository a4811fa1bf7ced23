import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron'
import { IPC_REQUEST_CHANNEL, ipcEventChannel, type Reply, type RequestName } from '@shared/contract'
import type { EventSink } from '../services/events'
import type { Dispatch } from './dispatch'

/**
 * The only place raw `ipcMain` is used: one invoke channel for every request (its name inside),
 * answered with a Reply (never a rejection, so no "Error invoking remote method" text reaches the
 * page), and events sent to every window on their own channels.
 */
export function registerIpcBridge(dispatch: Dispatch, options: { isTrustedSender: (url: string) => boolean }): () => void {
  const handler = async (event: IpcMainInvokeEvent, name: unknown, params: unknown): Promise<Reply<RequestName>> => {
    const url = event.senderFrame?.url ?? ''
    if (!options.isTrustedSender(url)) {
      return { ok: false, error: { code: 'unauthorized', message: 'This page may not use the studio.' } }
    }
    return dispatch(name, params)
  }
  ipcMain.handle(IPC_REQUEST_CHANNEL, handler)
  return () => ipcMain.removeHandler(IPC_REQUEST_CHANNEL)
}

/** Pushes contract events to every open window. */
export const ipcEventSink: EventSink = (event, payload) => {
  for (const win of BrowserWindow.getAllWindows()) {
    const contents = win.webContents
    if (!contents.isDestroyed()) contents.send(ipcEventChannel(event), payload)
  }
}
