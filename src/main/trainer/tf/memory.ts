import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * Keeping a training process's memory flat.
 *
 * A tfjs training step creates thousands of small JS objects (tensor handles, tape entries,
 * closures) that live for the whole step, so they survive V8's young-generation scavenges and
 * are promoted; V8 then lets the old generation grow for a long while before a full collection.
 * RSS climbs step after step and only falls back much later, although nothing leaks: with a full
 * GC every few dozen steps it stays flat, and a full GC costs little beside a training step.
 */

type Gc = () => void

let gc: Gc | null | undefined

function findGc(): Gc | null {
  const exposed = (globalThis as { gc?: Gc }).gc
  if (typeof exposed === 'function') return exposed
  try {
    // Without --expose-gc on the command line: enable it, then read it from a fresh context.
    setFlagsFromString('--expose-gc')
    const fn = runInNewContext('gc') as unknown
    return typeof fn === 'function' ? (fn as Gc) : null
  } catch {
    return null
  }
}

/** Runs a full garbage collection. Returns false where the runtime does not allow it. */
export function collectGarbage(): boolean {
  if (gc === undefined) gc = findGc()
  if (!gc) return false
  gc()
  return true
}

/** How often a training loop should call collectGarbage (in steps). */
export const GC_EVERY_STEPS = 50
