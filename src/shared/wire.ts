import type { EventName, Events, Reply, RequestName } from './contract'

/** The contract over a WebSocket (`gan-studio serve`): same names, same payloads as IPC. */
export type ClientMessage = { type: 'request'; id: number; name: RequestName; params: unknown }
export type ServerMessage =
  | { type: 'reply'; id: number; reply: Reply<RequestName> }
  | { [E in EventName]: { type: 'event'; name: E; payload: Events[E] } }[EventName]

/** The socket lives at `/ws?token=…`; files at `/files/<path in home>?token=…`. */
export const WS_PATH = '/ws'
export const FILES_PATH = '/files/'
export const TOKEN_PARAM = 'token'
