/** Starred seeds and named collections of a run, as stored in its `favorites.json` and sent to the studio. */

export interface CollectionItem {
  id: string
  /** The item's seed, or null for a latent without one. */
  seed: number | null
  /** The latent itself (length = the run's latentDim, before truncation ψ), or null for a seed. */
  latent: number[] | null
  label: string
  addedAt: string
}

export interface Collection {
  name: string
  createdAt: string
  updatedAt: string
  items: CollectionItem[]
}

export interface FavoritesFile {
  seeds: number[]
  collections: Collection[]
}
