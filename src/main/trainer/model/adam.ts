import * as tf from '@tensorflow/tfjs'

/**
 * Adam over a named set of variables (PyTorch's formula, bias-corrected). Written here rather than
 * using tf.train.adam because its state must be saved by name in checkpoints and restored into a
 * fresh set of variables; tfjs's optimizer keys its moments by position and by engine-global
 * variable names.
 */
export class Adam {
  private readonly m = new Map<string, tf.Variable>()
  private readonly v = new Map<string, tf.Variable>()
  step = 0

  constructor(
    readonly lr: number,
    readonly beta1: number,
    readonly beta2: number,
    readonly epsilon = 1e-8
  ) {}

  /** `vars` are keyed by parameter name; `grads` as tf.variableGrads returns them (by variable name). */
  apply(vars: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.step += 1
    const bc1 = 1 - this.beta1 ** this.step
    const bc2 = 1 - this.beta2 ** this.step
    const stepSize = this.lr / bc1
    const invSqrtBc2 = 1 / Math.sqrt(bc2)
    tf.tidy(() => {
      for (const [name, variable] of Object.entries(vars)) {
        const g = grads[variable.name]
        if (!g) throw new Error(`no gradient for ${name}`)
        const m = this.moment(this.m, name, variable)
        const v = this.moment(this.v, name, variable)
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1))
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2))
        m.assign(mNew)
        v.assign(vNew)
        const denom = tf.add(tf.mul(tf.sqrt(vNew), invSqrtBc2), this.epsilon)
        variable.assign(tf.sub(variable, tf.mul(tf.div(mNew, denom), stepSize)))
      }
    })
  }

  private moment(store: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let slot = store.get(name)
    if (!slot) {
      slot = tf.variable(tf.zerosLike(like), false)
      store.set(name, slot)
    }
    return slot
  }

  /** Moments keyed `<param>/m` and `<param>/v`, for checkpoints. */
  state(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {}
    for (const [name, t] of this.m) out[`${name}/m`] = t
    for (const [name, t] of this.v) out[`${name}/v`] = t
    return out
  }

  load(step: number, tensors: Record<string, tf.Tensor>): void {
    this.dispose()
    this.step = step
    for (const [key, t] of Object.entries(tensors)) {
      const slash = key.lastIndexOf('/')
      const name = key.slice(0, slash)
      const kind = key.slice(slash + 1)
      const store = kind === 'm' ? this.m : kind === 'v' ? this.v : null
      if (!store) continue
      store.set(name, tf.variable(t, false))
    }
  }

  dispose(): void {
    for (const t of this.m.values()) t.dispose()
    for (const t of this.v.values()) t.dispose()
    this.m.clear()
    this.v.clear()
  }
}
