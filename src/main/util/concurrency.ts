/**
 * Small concurrency helpers: a bounded pool over an index range, and a per-key lock that runs
 * calls for the same key one after another.
 */

/**
 * Runs `fn(0 … count-1)` with at most `concurrency` calls in flight. Each lane gets its own value
 * from `lane()` (e.g. a reusable buffer). The first failure stops new calls and is thrown once the
 * ones in flight have finished; `isStopped` is checked before each call, and the error it returns
 * is thrown the same way.
 */
export async function forEachConcurrent<L>(
  count: number,
  concurrency: number,
  lane: () => L,
  fn: (i: number, lane: L) => Promise<void>,
  isStopped: () => unknown = () => null
): Promise<void> {
  let nextIndex = 0
  let failure: unknown = null
  const worker = async (): Promise<void> => {
    const own = lane()
    while (failure === null && nextIndex < count) {
      const stopped = isStopped()
      if (stopped) {
        failure ??= stopped
        return
      }
      const i = nextIndex++
      try {
        await fn(i, own)
      } catch (err) {
        failure ??= err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  if (failure !== null) throw failure
}

const locks = new Map<string, Promise<unknown>>()

/** Runs `fn` after every earlier call with the same key has settled (a failure does not block the next). */
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = locks.get(key) ?? Promise.resolve()
  const run = before.catch(() => undefined).then(fn)
  const tail = run.catch(() => undefined)
  locks.set(key, tail)
  try {
    return await run
  } finally {
    if (locks.get(key) === tail) locks.delete(key)
  }
}
