import * as tf from '@tensorflow/tfjs'

/**
 * The R1 penalty differentiates a gradient (double backprop). The gradient of LeakyRelu is built
 * from a `Greater` mask, and tfjs registers no gradient for comparisons; their gradient is zero
 * everywhere it exists, so we register exactly that.
 */
let registered = false
export function registerSecondOrderGradients(): void {
  if (registered) return
  registered = true
  for (const kernelName of ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual']) {
    if (tf.getGradient(kernelName)) continue
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [a, b] = saved as [tf.Tensor, tf.Tensor]
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) }
      }
    })
  }
}
