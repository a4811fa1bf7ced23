import type { RunConfig } from '@shared/config'
import type { MetricRecord, QualityPoint } from '@shared/runs'

/**
 * The quality meter's numbers as the studio shows them: the points of a run (kept in step order,
 * rewound when a run resumes from an older checkpoint) and plain-language alerts with what to try.
 */

/** Adds one metric record's quality (if any) to the list; a record at or before the newest point rewinds the list first. */
export function withQuality(points: QualityPoint[], record: MetricRecord): QualityPoint[] {
  const last = points[points.length - 1]
  const kept = last && record.step <= last.step ? points.filter((p) => p.step < record.step) : points
  return record.quality ? [...kept, { ...record.quality, step: record.step, imagesSeen: record.imagesSeen }] : kept
}

/** Variety below this: the samples look alike (collapse). */
export const LOW_VARIETY = 0.5
/** Memorisation below this: samples are near copies of training images. */
export const LOW_MEMORISATION = 0.3

export interface QualityAlert {
  kind: 'collapse' | 'copies'
  title: string
  detail: string
  tips: string[]
}

/** Alerts for the newest measurement of a run (none while it looks healthy or before the first one). */
export function qualityAlerts(points: readonly QualityPoint[], config: RunConfig | null): QualityAlert[] {
  const last = points[points.length - 1]
  if (!last) return []
  const out: QualityAlert[] = []
  if (last.variety !== null && last.variety < LOW_VARIETY) {
    const best = points.reduce<QualityPoint | null>((b, p) => (p.variety !== null && (b === null || p.variety > (b.variety ?? -1)) ? p : b), null)
    const tips: string[] = []
    if (config && !(config.augment.translation && config.augment.color)) tips.push('Turn on augmentation (colour, translation, cutout) so the discriminator cannot learn the dataset by heart.')
    if (config && !config.model.mbstd) tips.push('Turn on minibatch standard deviation in the discriminator: it lets it see when every sample is alike.')
    tips.push('Lower the learning rates (for example 0.0001 for both networks), or try the hinge loss with an R1 penalty.')
    if (best && best.variety !== null && best.variety >= 0.7 && best.step < last.step)
      tips.push(`Variety was ${best.variety.toFixed(2)} at step ${best.step.toLocaleString('en-US')}: that checkpoint may be worth keeping.`)
    out.push({
      kind: 'collapse',
      title: 'The samples all look alike: the generator may be collapsing.',
      detail: `Variety is ${last.variety.toFixed(2)} at step ${last.step.toLocaleString('en-US')} (about 1 is as varied as your images; near 0, every seed gives the same picture).`,
      tips
    })
  }
  if (last.memorisation !== null && last.memorisation < LOW_MEMORISATION) {
    const tips = [
      'Look at "Nearest training images" in the gallery to see which images are being copied.',
      'Add more images to the dataset, or stop earlier: an earlier checkpoint may be more original.'
    ]
    if (config && !(config.augment.translation && config.augment.cutout)) tips.push('Turn on augmentation (translation, cutout) so the discriminator cannot memorise the images.')
    tips.push('Use a smaller model (lower widths) for a small dataset.')
    out.push({
      kind: 'copies',
      title: 'Samples are close copies of training images.',
      detail: `Memorisation is ${last.memorisation.toFixed(2)} at step ${last.step.toLocaleString('en-US')} (about 1 means new pictures; near 0, copies of training images).`,
      tips
    })
  }
  return out
}
