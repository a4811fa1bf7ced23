import { z } from 'zod'
import { describeZodError, RunConfigSchema } from '@shared/config'
import { ERROR_CODES } from '@shared/errors'
import { RUN_STATUSES, type RunJson } from '@shared/runs'

/**
 * The versioned files of a run folder, parsed with schemas: `run.json`, `meta.json` (the
 * user-edited name, tags and note) and each checkpoint's `manifest.json`. A file written by an
 * older version is migrated step by step (`migrate`) before it is validated; one from a newer
 * version, or one that does not validate, is refused with the reason, which the run list shows.
 */

/** Each entry turns a file of format `n` into format `n + 1`. */
export type Migrations = Record<number, (raw: Record<string, unknown>) => Record<string, unknown>>

export type Parsed<T> = { ok: true; value: T; migratedFrom: number | null } | { ok: false; reason: string }

export function migrate(raw: unknown, current: number, migrations: Migrations, what: string): Parsed<Record<string, unknown>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: `${what} is not a JSON object` }
  let value = raw as Record<string, unknown>
  const version = value.formatVersion
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return { ok: false, reason: `${what} has no valid formatVersion` }
  }
  if (version > current) {
    return { ok: false, reason: `${what} was written by a newer GAN Studio (format ${version}); update GAN Studio to open it` }
  }
  for (let v = version; v < current; v++) {
    const step = migrations[v]
    if (!step) return { ok: false, reason: `${what} has format ${v}, which this version cannot migrate` }
    value = { ...step(value), formatVersion: v + 1 }
  }
  return { ok: true, value, migratedFrom: version === current ? null : version }
}

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date (ISO 8601)')
const count = z.number().int().min(0)

/** The dataset summary kept in run.json: what the run list shows, plus whatever else was recorded. */
const DatasetRecordSchema = z.looseObject({ id: z.string(), name: z.string(), count: count })

const BackendRecordSchema = z.looseObject({
  requested: z.string(),
  used: z.string(),
  passedOver: z.array(z.looseObject({ name: z.string(), reason: z.string() })).default([])
})

export const RUN_FORMAT = 1

/**
 * run.json, format 1. Fields added after the first release (backend, counters, error, tags,
 * note, owner) default when absent; a config saved before a model setting existed gets that
 * setting's default (`RunConfigSchema`).
 */
export const RunJsonSchema = z.object({
  formatVersion: z.literal(RUN_FORMAT),
  id: z.string().min(1),
  name: z.string(),
  createdAt: isoDate,
  updatedAt: isoDate.optional(),
  appVersion: z.string().default('unknown'),
  config: RunConfigSchema,
  dataset: DatasetRecordSchema,
  backend: BackendRecordSchema.nullable().default(null),
  status: z.enum(RUN_STATUSES),
  step: count,
  imagesSeen: count.default(0),
  trainingMs: z.number().min(0).default(0),
  latestCheckpoint: z.string().nullable().default(null),
  latestCheckpointStep: count.default(0),
  error: z.object({ code: z.enum(ERROR_CODES as [string, ...string[]]), message: z.string() }).nullable().default(null),
  tags: z.array(z.string()).default([]),
  note: z.string().default(''),
  /** The process training this run while `status` is `running` (to tell a live run from an interrupted one). */
  owner: z.object({ pid: z.number().int(), host: z.string() }).nullable().default(null),
  /** Set when the run started from another run's weights (absent in runs trained from scratch). */
  fineTunedFrom: z.object({ run: z.string(), name: z.string(), step: count, checkpoint: z.string() }).nullable().optional()
})

const RUN_MIGRATIONS: Migrations = {}

export function parseRunJson(raw: unknown): Parsed<RunJson> {
  const migrated = migrate(raw, RUN_FORMAT, RUN_MIGRATIONS, 'run.json')
  if (!migrated.ok) return migrated
  const parsed = RunJsonSchema.safeParse(migrated.value)
  if (!parsed.success) return { ok: false, reason: `run.json is invalid (${describeZodError(parsed.error)})` }
  const value = parsed.data
  return { ok: true, value: { ...value, updatedAt: value.updatedAt ?? value.createdAt } as unknown as RunJson, migratedFrom: migrated.migratedFrom }
}

/**
 * meta.json: what a person edits (name, tags, note). Written only by the studio's side, never by
 * the training loop, so an edit made while a run trains cannot be overwritten; it wins over the
 * same fields in run.json.
 */
export const META_FORMAT = 1
export const RunMetaSchema = z.object({
  formatVersion: z.literal(META_FORMAT),
  name: z.string().trim().min(1).max(120).optional(),
  tags: z.array(z.string().trim().min(1).max(40)).max(20).optional(),
  note: z.string().max(4000).optional()
})
export type RunMeta = Omit<z.infer<typeof RunMetaSchema>, 'formatVersion'>

export function parseRunMeta(raw: unknown): Parsed<RunMeta> {
  const migrated = migrate(raw, META_FORMAT, {}, 'meta.json')
  if (!migrated.ok) return migrated
  const parsed = RunMetaSchema.safeParse(migrated.value)
  if (!parsed.success) return { ok: false, reason: `meta.json is invalid (${describeZodError(parsed.error)})` }
  const { formatVersion: _v, ...meta } = parsed.data
  void _v
  return { ok: true, value: meta, migratedFrom: null }
}

/**
 * A checkpoint's manifest.json. Format 2 covers the whole checkpoint with `sha256`: the manifest's
 * own fields and the tensor bytes (format 1 covered the tensor file only; it is still read, with
 * its step checked against the folder name, since nothing else vouches for its fields).
 */
export const CHECKPOINT_FORMAT = 2

const RngStateSchema = z.tuple([z.number(), z.number(), z.number(), z.number()])
export const CheckpointManifestSchema = z.object({
  formatVersion: z.literal(CHECKPOINT_FORMAT),
  step: count,
  imagesSeen: count,
  trainingMs: z.number().min(0),
  createdAt: isoDate,
  appVersion: z.string(),
  config: RunConfigSchema,
  rng: RngStateSchema,
  gOptStep: count,
  dOptStep: count,
  tensors: z.array(z.object({ name: z.string(), shape: z.array(count), offset: count, length: count })),
  byteLength: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** What `sha256` covers: `manifest+tensors` (format 2) or `tensors` (a migrated format 1). */
  covers: z.enum(['manifest+tensors', 'tensors'])
})
export type CheckpointManifestJson = z.infer<typeof CheckpointManifestSchema>

const CHECKPOINT_MIGRATIONS: Migrations = {
  // Format 1 had the same fields; only what its checksum covers differs (see parseCheckpointManifest).
  1: (raw) => raw
}

export function parseCheckpointManifest(raw: unknown): Parsed<CheckpointManifestJson> {
  const migrated = migrate(raw, CHECKPOINT_FORMAT, CHECKPOINT_MIGRATIONS, 'manifest.json')
  if (!migrated.ok) return migrated
  // What the checksum covers follows from the format on disk, never from a field that could lie.
  const covers = migrated.migratedFrom === null ? 'manifest+tensors' : 'tensors'
  const parsed = CheckpointManifestSchema.safeParse({ ...migrated.value, covers })
  if (!parsed.success) return { ok: false, reason: `manifest.json is invalid (${describeZodError(parsed.error)})` }
  return { ok: true, value: parsed.data, migratedFrom: migrated.migratedFrom }
}
