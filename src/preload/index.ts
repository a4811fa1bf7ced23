/**
 * The preload (sandboxed, CommonJS): builds `window.studio` from the contract — one method per
 * request, `on(event, cb)` returning an unsubscribe, `fileUrl` for studio files — and nothing
 * else. The only place `ipcRenderer` is used; it never reaches the page.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron'
import {
  EVENT_NAMES,
  IPC_REQUEST_CHANNEL,
  REQUEST_NAMES,
  ipcEventChannel,
  type EventName,
  type Events,
  type Reply,
  type RequestName,
  type StudioBridge
} from '@shared/contract'

/** `studio://home/<path in home>`, each segment encoded; main's protocol handler checks the path. */
export function studioFileUrl(pathInHome: string): string {
  const segments = pathInHome
    .split(/[\\/]+/)
    .filter((s) => s.length > 0)
    .map((s) => encodeURIComponent(s))
  return `studio://home/${segments.join('/')}`
}

async function request(name: RequestName, params: unknown): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(IPC_REQUEST_CHANNEL, name, params ?? {})) as Reply<RequestName>
  if (reply.ok) return reply.result
  // A plain { code, message } object: Error properties other than the message do not survive the
  // context bridge, and the renderer reads errors with isStudioErrorShape.
  throw { code: reply.error.code, message: reply.error.message }
}

function on<E extends EventName>(event: E, cb: (payload: Events[E]) => void): () => void {
  if (!EVENT_NAMES.includes(event)) throw new Error(`Unknown studio event "${String(event)}"`)
  if (typeof cb !== 'function') throw new Error('on(event, cb): cb must be a function')
  const channel = ipcEventChannel(event)
  const listener = (_event: IpcRendererEvent, payload: Events[E]): void => cb(payload)
  ipcRenderer.on(channel, listener)
  return () => {
    ipcRenderer.removeListener(channel, listener)
  }
}

const requests = Object.fromEntries(REQUEST_NAMES.map((name) => [name, (params: unknown) => request(name, params)]))

const studio = {
  ...requests,
  on,
  fileUrl: studioFileUrl,
  /** Desktop extra: the path of a file or folder dropped on the page. */
  pathForFile: (file: File): string => webUtils.getPathForFile(file)
} as unknown as StudioBridge & { pathForFile(file: File): string }

contextBridge.exposeInMainWorld('studio', studio)
