import type { EventName, Events } from '@shared/contract'

/** Where services push contract events: IPC to every window (desktop) or every socket (serve). */
export type EventSink = <E extends EventName>(event: E, payload: Events[E]) => void

/** An event sink that fans out to listeners added later (the bridge subscribes after services exist). */
export class EventHub {
  private readonly sinks = new Set<EventSink>()

  readonly emit: EventSink = (event, payload) => {
    for (const sink of [...this.sinks]) {
      try {
        sink(event, payload)
      } catch (err) {
        console.error(`gan-studio: delivering ${event} failed:`, err)
      }
    }
  }

  subscribe(sink: EventSink): () => void {
    this.sinks.add(sink)
    return () => {
      this.sinks.delete(sink)
    }
  }
}
