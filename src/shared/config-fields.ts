import { z } from 'zod'
import { RunConfigSchema, type RunConfig } from './config'

/**
 * The run settings as fields, read from RunConfigSchema's JSON Schema: type, bounds, default,
 * choices, title and help. The studio's settings panel and the CLI's flags are built from these,
 * so a bound or a default changed in the schema changes everywhere at once.
 */

type Leaves<T> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends readonly unknown[]
    ? K
    : NonNullable<T[K]> extends Record<string, unknown>
      ? `${K}.${Leaves<NonNullable<T[K]>>}`
      : K
}[keyof T & string]

/** A dotted path to one setting: `steps`, `optimizer.gLr`, `preprocess.resolution`… */
export type ConfigPath = Leaves<RunConfig>

export type ConfigFieldType = 'integer' | 'number' | 'boolean' | 'string' | 'choice'

export interface ConfigField {
  path: ConfigPath
  type: ConfigFieldType
  /** Inclusive bounds. */
  minimum?: number
  maximum?: number
  /** Exclusive bounds (`> 0`, `< 1`). */
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  /** The allowed values of a `choice`. */
  choices?: readonly (string | number)[]
  default?: unknown
  /** Short name ("Batch size") and plain-language help, from the schema's metadata. */
  title?: string
  description?: string
}

interface JsonNode {
  type?: string
  properties?: Record<string, JsonNode>
  anyOf?: JsonNode[]
  enum?: (string | number)[]
  const?: string | number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  default?: unknown
  title?: string
  description?: string
}

function toField(path: string, node: JsonNode): ConfigField {
  const base = {
    path: path as ConfigPath,
    ...(node.default !== undefined && { default: node.default }),
    ...(node.title !== undefined && { title: node.title }),
    ...(node.description !== undefined && { description: node.description })
  }
  if (node.enum) return { ...base, type: 'choice', choices: node.enum }
  if (node.anyOf?.every((n) => n.const !== undefined)) return { ...base, type: 'choice', choices: node.anyOf.map((n) => n.const!) }
  if (node.type === 'integer' || node.type === 'number') {
    return {
      ...base,
      type: node.type,
      ...(node.minimum !== undefined && { minimum: node.minimum }),
      ...(node.maximum !== undefined && { maximum: node.maximum }),
      ...(node.exclusiveMinimum !== undefined && { exclusiveMinimum: node.exclusiveMinimum }),
      ...(node.exclusiveMaximum !== undefined && { exclusiveMaximum: node.exclusiveMaximum })
    }
  }
  if (node.type === 'boolean' || node.type === 'string') return { ...base, type: node.type }
  throw new Error(`config-fields: setting ${path} has a shape this walker does not know`)
}

function walk(node: JsonNode, prefix: string, out: Map<string, ConfigField>): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key
    if (child.type === 'object' && child.properties) walk(child, path, out)
    else out.set(path, toField(path, child))
  }
}

let fields: Map<string, ConfigField> | null = null

function allFields(): Map<string, ConfigField> {
  if (!fields) {
    fields = new Map()
    walk(z.toJSONSchema(RunConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonNode, '', fields)
  }
  return fields
}

/** Every setting of the run config, in schema order. */
export function configFields(): ConfigField[] {
  return [...allFields().values()]
}

/** The field at a path; throws for a path the schema does not have. */
export function configField(path: ConfigPath): ConfigField {
  const field = allFields().get(path)
  if (!field) throw new Error(`config-fields: the run config has no setting "${path}"`)
  return field
}

export function isConfigPath(path: string): path is ConfigPath {
  return allFields().has(path)
}

function num(n: number): string {
  return Number.isInteger(n) && Math.abs(n) >= 10_000 ? n.toLocaleString('en-US') : String(n)
}

/** The allowed range in words: "1 to 256", "more than 0, at most 0.1", "0 to less than 1". */
export function describeRange(field: ConfigField): string | null {
  const low = field.minimum !== undefined ? num(field.minimum) : field.exclusiveMinimum !== undefined ? `more than ${num(field.exclusiveMinimum)}` : null
  const high = field.maximum !== undefined ? num(field.maximum) : field.exclusiveMaximum !== undefined ? `less than ${num(field.exclusiveMaximum)}` : null
  if (low === null && high === null) return null
  if (low === null) return high!.startsWith('less') ? high : `at most ${high}`
  if (high === null) return low.startsWith('more') ? low : `at least ${low}`
  return low.startsWith('more') ? `${low}, at most ${high}` : `${low} to ${high}`
}

/** Reads a setting from a (partial) config object. */
export function getAt(obj: unknown, path: ConfigPath): unknown {
  let cur: unknown = obj
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** Writes a setting into a (partial) config object in place, creating the groups on the way. */
export function setAt(obj: object, path: ConfigPath, value: unknown): void {
  const keys = path.split('.')
  let cur = obj as Record<string, unknown>
  for (const key of keys.slice(0, -1)) {
    const next = cur[key]
    if (typeof next !== 'object' || next === null) cur[key] = {}
    cur = cur[key] as Record<string, unknown>
  }
  cur[keys[keys.length - 1]!] = value
}
