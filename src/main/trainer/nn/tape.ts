import * as tf from '@tensorflow/tfjs'

/**
 * A minimal reverse-mode tape for the training step.
 *
 * The training step does not use tfjs' autograd: its tape records every primitive op and builds
 * the backward pass from per-op gradient functions, several small kernels per layer. Here each
 * layer-sized op (a convolution with its bias and activation, a norm, a gate) records one entry
 * with a hand-written backward that calls the backend's convolution kernels directly and fuses
 * the element-wise work. Two things autograd cannot express are also possible:
 *
 * - parameter gradients can be skipped per call (`params` filter), so the generator's step runs
 *   the discriminator backward for the input gradient only;
 * - `sampleWeights` scales each sample's contribution to the parameter gradients while input
 *   gradients stay unscaled. Backpropagating ones from per-sample logits once then gives both the
 *   generator's input gradient (weights of its loss) and the discriminator's parameter gradients
 *   (weights of its loss) — valid for networks without cross-sample coupling.
 *
 * Tensors the tape holds are released by the tf.tidy the step runs in.
 */

export type BackwardFn = (dOutputs: (tf.Tensor | null)[], ctx: BackwardContext) => (tf.Tensor | null)[]

export interface BackwardContext {
  /** Whether input `i` of this entry needs a gradient. */
  needs(i: number): boolean
  /** Whether the gradient of parameter `name` is wanted in this backward pass. */
  wantsParam(name: string): boolean
  /** Per-sample weights for parameter gradients (shape [batch]); null means all ones. */
  readonly sampleWeights: tf.Tensor1D | null
  /** Adds to parameter `name`'s gradient. */
  addParamGrad(name: string, grad: tf.Tensor): void
}

interface Entry {
  inputs: (tf.Tensor | null)[]
  outputs: tf.Tensor[]
  params: string[]
  backward: BackwardFn
}

export interface BackwardOptions {
  /** Which parameters get gradients (default: all). */
  params?: (name: string) => boolean
  /** Per-sample weights applied to parameter gradients only (see the file comment). */
  sampleWeights?: tf.Tensor1D | null
  /** Whether watched inputs (not produced by a recorded op) get gradients (default true). */
  rootGrads?: boolean
}

export class Tape {
  private readonly entries: Entry[] = []
  private readonly requiresGrad = new Set<number>()
  private readonly produced = new Set<number>()
  /** Accumulated parameter gradients, by parameter name. */
  readonly paramGrads = new Map<string, tf.Tensor>()

  /** Marks an input (e.g. the generated images fed to D) as one whose gradient is wanted. */
  watch<T extends tf.Tensor>(t: T): T {
    this.requiresGrad.add(t.id)
    return t
  }

  requires(t: tf.Tensor | null): boolean {
    return t !== null && this.requiresGrad.has(t.id)
  }

  /**
   * Records an op. Entries with parameters are always kept; others only when an input needs a
   * gradient. Outputs of a kept entry need gradients in turn.
   */
  record(inputs: (tf.Tensor | null)[], outputs: tf.Tensor[], params: string[], backward: BackwardFn): void {
    if (params.length === 0 && !inputs.some((t) => this.requires(t))) return
    this.entries.push({ inputs, outputs, params, backward })
    for (const o of outputs) {
      this.requiresGrad.add(o.id)
      this.produced.add(o.id)
    }
  }

  /**
   * Backpropagates from `seeds` ([output, its gradient] pairs). Returns the gradients of the
   * watched tensors reached, by tensor id. Parameter gradients accumulate in `paramGrads`.
   */
  backward(seeds: [tf.Tensor, tf.Tensor][], options: BackwardOptions = {}): Map<number, tf.Tensor> {
    const grads = new Map<number, tf.Tensor>()
    const add = (t: tf.Tensor, g: tf.Tensor): void => {
      const prev = grads.get(t.id)
      grads.set(t.id, prev ? tf.add(prev, g) : g)
    }
    for (const [t, g] of seeds) add(t, g)
    const wants = options.params ?? (() => true)
    const sampleWeights = options.sampleWeights ?? null
    const rootGrads = options.rootGrads ?? true
    const needsGrad = (t: tf.Tensor | null): boolean => this.requires(t) && (rootGrads || this.produced.has(t!.id))
    for (let e = this.entries.length - 1; e >= 0; e--) {
      const entry = this.entries[e]!
      const dOut = entry.outputs.map((o) => grads.get(o.id) ?? null)
      if (dOut.every((d) => d === null)) continue
      const needs = entry.inputs.map(needsGrad)
      if (!needs.some(Boolean) && !entry.params.some(wants)) continue
      const ctx: BackwardContext = {
        needs: (i) => needs[i] === true,
        wantsParam: wants,
        sampleWeights,
        addParamGrad: (name, g) => {
          const prev = this.paramGrads.get(name)
          this.paramGrads.set(name, prev ? tf.add(prev, g) : g)
        }
      }
      const dIn = entry.backward(dOut, ctx)
      entry.inputs.forEach((t, i) => {
        const g = dIn[i]
        if (t && g && needs[i]) add(t, g)
      })
    }
    return grads
  }
}
