import { describe, expect, it } from 'vitest'
import { collectGarbage } from '../../../../src/main/trainer/tf/memory'

/** An object reachable only through a WeakRef, made in its own function so no local keeps it. */
function unreachable(): WeakRef<object> {
  return new WeakRef({ payload: new Float64Array(16) })
}

/** Lets the current job end: until then a WeakRef created in it keeps its target alive. */
const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

describe('collectGarbage', () => {
  it('runs a full GC without --expose-gc: an object only a WeakRef points to is gone after it', async () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined()
    const gone = unreachable()
    const kept = { payload: new Float64Array(16) }
    const stays = new WeakRef(kept)
    await nextTask()
    // A small object in a quiet heap: nothing else would collect it before the assertion.
    expect(collectGarbage()).toBe(true)
    expect(gone.deref()).toBeUndefined()
    expect(stays.deref()).toBe(kept)
  })
})
