/**
 * Lets queued messages and timers run before continuing. A loop whose awaits all resolve at once
 * (tensor work on the cpu and wasm backends) otherwise holds the event loop until it ends, and a
 * cancel, or another job for the same process, waits that long.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
