import * as tf from '@tensorflow/tfjs'
import { generatorChannels, LN_EPSILON, type NetSpec } from '../trainer/model/networks'

/**
 * The trainer's generator (named tensors driven by `generatorForward`) rebuilt as a standard
 * TensorFlow.js layers model, so it loads with `tf.loadLayersModel` anywhere tfjs runs:
 *
 *   dense → reshape 4×4×c0 → layerNormalization(axis −1) → relu
 *   → [conv2dTranspose 4×4 s2 same → layerNormalization(axis −1) → relu]…
 *   → conv2dTranspose 4×4 s2 same to RGB, tanh
 *
 * Both use the same weight layouts (dense kernels [in, out]; transposed-conv kernels
 * [h, w, out, in]; layer-norm gamma/beta per channel, epsilon 1e-5), so weights copy over as is.
 */

type Values = Record<string, { shape: number[]; data: Float32Array }>

export function buildLayersModel(spec: NetSpec, values: Values): tf.Sequential {
  const ch = generatorChannels(spec)
  const c0 = ch[0]!
  const model = tf.sequential({ name: 'gan_studio_generator' })
  const norm = (i: number): tf.layers.Layer => tf.layers.layerNormalization({ axis: -1, epsilon: LN_EPSILON, name: `norm${i}` })
  const relu = (i: number): tf.layers.Layer => tf.layers.activation({ activation: 'relu', name: `relu${i}` })

  model.add(tf.layers.dense({ inputShape: [spec.latentDim], units: 16 * c0, name: 'dense' }))
  model.add(tf.layers.reshape({ targetShape: [4, 4, c0], name: 'reshape' }))
  model.add(norm(0))
  model.add(relu(0))
  for (let i = 1; i < ch.length; i++) {
    model.add(tf.layers.conv2dTranspose({ filters: ch[i]!, kernelSize: 4, strides: 2, padding: 'same', name: `up${i}` }))
    model.add(norm(i))
    model.add(relu(i))
  }
  model.add(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh', name: 'rgb' }))

  const t = (name: string): tf.Tensor => {
    const v = values[name]
    if (!v) throw new Error(`generator weight ${name} is missing`)
    return tf.tensor(v.data, v.shape)
  }
  const assign = (layer: string, names: string[]): void => {
    const tensors = names.map(t)
    model.getLayer(layer).setWeights(tensors)
    tf.dispose(tensors)
  }
  assign('dense', ['g/dense/kernel', 'g/dense/bias'])
  for (let i = 0; i < ch.length; i++) {
    if (i > 0) assign(`up${i}`, [`g/up${i}/kernel`, `g/up${i}/bias`])
    assign(`norm${i}`, [`g/norm${i}/gamma`, `g/norm${i}/beta`])
  }
  assign('rgb', ['g/rgb/kernel', 'g/rgb/bias'])
  return model
}

export interface SavedLayersModel {
  /** The standard model.json (format `layers-model`), weights in `weights.bin`. */
  modelJson: Record<string, unknown>
  weights: Uint8Array
  /** What `tf.io.fromMemory` takes, for embedding. */
  artifacts: { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[] }
}

export async function serializeLayersModel(model: tf.LayersModel, metadata: Record<string, unknown>): Promise<SavedLayersModel> {
  model.setUserDefinedMetadata(metadata)
  let saved: tf.io.ModelArtifacts | null = null
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    })
  )
  const a = saved as unknown as tf.io.ModelArtifacts
  if (!a.modelTopology || !a.weightSpecs || !a.weightData) throw new Error('the layers model did not serialize')
  const weightData = tf.io.CompositeArrayBuffer.join(a.weightData)
  const modelJson: Record<string, unknown> = {
    format: a.format ?? 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
    userDefinedMetadata: a.userDefinedMetadata ?? metadata
  }
  return {
    modelJson,
    weights: new Uint8Array(weightData),
    artifacts: { modelTopology: a.modelTopology as object, weightSpecs: a.weightSpecs }
  }
}
