import { createRequire } from 'node:module'
import * as tf from '@tensorflow/tfjs'

/**
 * The `tensorflow` backend: `@tensorflow/tfjs-node-gpu`, an optional dependency (it downloads
 * libtensorflow at install time, so it is often absent). Loaded lazily; every way it can fail
 * becomes one sentence.
 */

export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu'

export class TensorflowUnavailableError extends Error {
  override name = 'TensorflowUnavailableError'
}

const requireHere = createRequire(import.meta.url)

/** Installed version, or null when the package is not installed. */
export function tfjsNodeGpuVersion(): string | null {
  try {
    return (requireHere(`${TFJS_NODE_GPU}/package.json`) as { version: string }).version
  } catch {
    return null
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  return (msg.split('\n').find((l) => l.trim() !== '') ?? msg).trim()
}

/** Turns a load failure into a reason a person can act on. Exported for tests. */
export function explainLoadError(err: unknown): string {
  const msg = firstLine(err)
  const code = (err as { code?: string } | null)?.code
  if ((code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && msg.includes(TFJS_NODE_GPU))
    return `${TFJS_NODE_GPU} is not installed`
  const lib = /(lib[\w.+-]+\.so[\w.]*|[\w-]+\.dll|lib[\w.+-]+\.dylib)/.exec(msg)?.[1]
  if (lib && /cannot open shared object|not found|could not be found|image not found|specified module could not be found/i.test(msg)) {
    const cuda = /cud|cublas|cufft|curand|cusolver|cusparse|nvinfer/i.test(lib)
    return `${TFJS_NODE_GPU} is installed but ${lib} is missing${cuda ? ' (install the CUDA and cuDNN versions it was built for)' : ''}`
  }
  if (/tfjs_binding\.node/.test(msg)) return `${TFJS_NODE_GPU} is installed but its native addon is missing (its install-time download did not finish; reinstall it)`
  return `${TFJS_NODE_GPU} failed to load: ${msg}`
}

let loaded: Promise<void> | null = null

/** Loads tfjs-node-gpu so that tfjs has a `tensorflow` backend. Throws TensorflowUnavailableError. */
export function loadTensorflowBackend(): Promise<void> {
  loaded ??= (async () => {
    if (tf.findBackendFactory('tensorflow')) return
    try {
      requireHere.resolve(TFJS_NODE_GPU)
    } catch (err) {
      throw new TensorflowUnavailableError(explainLoadError(err))
    }
    try {
      const spec = TFJS_NODE_GPU
      await import(/* @vite-ignore */ spec)
    } catch (err) {
      throw new TensorflowUnavailableError(explainLoadError(err))
    }
    if (!tf.findBackendFactory('tensorflow'))
      throw new TensorflowUnavailableError(
        `${TFJS_NODE_GPU} loaded but registered with another copy of TensorFlow.js (install the same version as @tensorflow/tfjs ${tf.version.tfjs})`
      )
  })().catch((err: unknown) => {
    loaded = null
    throw err
  })
  return loaded
}
