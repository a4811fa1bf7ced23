import type { ModelArch } from '@shared/config'
import type { BaseSpec, ModelFamily } from '../family'
import { dcgan } from './dcgan'
import { lite } from './lite'

/** Every model family, by `model.arch`. Adding a family is a folder here and one entry below. */
const FAMILIES: Record<ModelArch, ModelFamily<never>> = {
  dcgan: dcgan as ModelFamily<never>,
  lite: lite as ModelFamily<never>
}

export function familyFor(arch: ModelArch): ModelFamily<BaseSpec> {
  const family = FAMILIES[arch]
  if (!family) throw new Error(`Unknown model family ${arch}`)
  return family as unknown as ModelFamily<BaseSpec>
}
