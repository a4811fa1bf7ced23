import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../../src/main/trainer/tf/backends'

/** Tests train tiny models on wasm (registered gradient kernels included): fast and deterministic. */
export async function useWasm(): Promise<void> {
  if (tf.getBackend() !== 'wasm') await initBackend('wasm')
}
