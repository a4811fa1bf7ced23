/** Whether the bridge can currently reach the main side. Desktop IPC is always `open`. */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'refused'

/** Implemented by bridges whose connection can drop (the browser's WebSocket client). */
export interface ConnectionAware {
  readonly connection: ConnectionState
  onConnection(cb: (state: ConnectionState) => void): () => void
}

export function isConnectionAware(value: unknown): value is ConnectionAware {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { onConnection?: unknown }).onConnection === 'function'
  )
}
