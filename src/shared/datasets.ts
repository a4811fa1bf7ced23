import type { CropMode, Resolution } from './config'

/** One skipped source file and why, as a person would want to read it. */
export interface SkippedFile {
  /** Path relative to the dataset's source folder. */
  file: string
  reason: string
}

/** A file left out because its bytes are identical to an earlier one. */
export interface DuplicateFile {
  /** Path relative to the source folder. */
  file: string
  /** The earlier file (in path order) it is identical to. */
  sameAs: string
}

export interface DatasetStats {
  /** Source image sizes before preprocessing. */
  minWidth: number
  maxWidth: number
  minHeight: number
  maxHeight: number
  medianWidth: number
  medianHeight: number
  /** width / height */
  minAspect: number
  maxAspect: number
  medianAspect: number
  /** How many usable images had an alpha channel that was flattened. */
  withAlpha: number
}

/** `<home>/datasets/<id>/dataset.json` — written atomically, version-tagged. */
export interface DatasetJson {
  formatVersion: 1
  id: string
  name: string
  /** Absolute path of the source folder. */
  source: string
  createdAt: string
  updatedAt: string
  resolution: Resolution
  crop: CropMode
  background: string
  /** Number of usable (decoded, de-duplicated) images in the cache. */
  count: number
  /** Files found in the folder that looked like images (before skipping). */
  scanned: number
  duplicates: number
  /** Which files were the duplicates (optional: older dataset.json files may lack it). */
  duplicateFiles?: DuplicateFile[]
  skipped: SkippedFile[]
  stats: DatasetStats
  /** Cache file name inside the dataset folder, e.g. `cache-32.bin` (uint8 NHWC RGB). */
  cacheFile: string
  /** Fingerprint of the source files (paths, sizes, mtimes) + preprocessing the cache was built from. */
  fingerprint: string
  /** Source-relative paths of the cached images, in cache order. */
  files: string[]
}

export type DatasetSummary = Omit<DatasetJson, 'files'>

export interface ImportProgress {
  phase: 'scan' | 'decode' | 'cache'
  done: number
  total: number
}

/** A dataset's summary: everything but the per-file list (what runs, lists and the UI carry). */
export function toDatasetSummary(dataset: DatasetJson | DatasetSummary): DatasetSummary {
  if (!('files' in dataset)) return dataset
  const { files: _files, ...summary } = dataset
  void _files
  return summary
}
