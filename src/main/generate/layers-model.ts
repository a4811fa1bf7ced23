import * as tf from '@tensorflow/tfjs'

/** A model family's generator (see its `exportGenerator`) serialised as a standard tfjs layers model. */

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
