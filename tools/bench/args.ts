import { parseArgs } from 'node:util'
import { BACKEND_NAMES, MODEL_ARCHS, RESOLUTIONS, type BackendName, type ModelArch } from '@shared/config'
import { configField } from '@shared/config-fields'

/** `npm run bench` options: parsing and checking, with one clear line for anything wrong. */

export class UsageError extends Error {}

export const WIDTHS = ['default', 'narrow'] as const
export type Widths = (typeof WIDTHS)[number]

/** The model shapes a width name stands for ("default" is the config's defaults). */
export const WIDTH_SHAPES: Record<Widths, { gChannels?: number; dChannels?: number; latentDim?: number }> = {
  default: {},
  narrow: { gChannels: 32, dChannels: 32, latentDim: 64 }
}

export type Mode = 'speed' | 'torch' | 'profile' | 'quality'

export interface Options {
  mode: Mode
  json: string | null
  resolutions: number[]
  families: ModelArch[]
  widths: Widths[]
  backends: BackendName[] | null
  batch: number
  steps: number
  seconds: number
  rounds: number
  /** Largest spread (half-range ÷ median) at which a ratio is still printed. */
  maxSpread: number
  threads: number | null
  /** OpenBLAS threads under each PyTorch thread (0: OpenBLAS's default pool). */
  torchBlasThreads: number
  rssSteps: number
  import: boolean
  importCount: number
  python: string | undefined
  /** Quality mode: training time per model, in minutes. */
  minutes: number
  /** Quality mode: where datasets, runs and images go. */
  workDir: string | null
}

export function usage(cores: number): string {
  return `Usage: npm run bench -- [options]
Modes (one at most; without one: every backend's speed, memory over a long run, import speed):
  --torch              our engine and its PyTorch twin (tools/bench/torch_twin.py) in alternating
                       rounds: median and spread of each and of the ratio, and how busy the machine was
  --profile            where one step's time goes on wasm in one thread (kernels, JavaScript, GC)
  --quality            train each family with its defaults for --minutes on generated datasets and
                       score them (and PyTorch references where python3-torch exists)
Options:
  --families <list>    model families (default dcgan,lite)
  --widths <list>      default and/or narrow (G 32, D 32, z 64) widths (default: default,narrow with
                       --torch, else default)
  --resolutions <list> image sizes (default 32,64)
  --rounds <n>         alternating rounds per case with --torch (default 5)
  --max-spread <pct>   print a ratio only when it moved at most this much either side of its
                       median across rounds (default 10)
  --seconds <s>        timed seconds per case or round, at least (default 8)
  --steps <n>          timed steps per case or round, at least (default 5)
  --batch <n>          batch size (default 32)
  --threads <n>        wasm worker threads and PyTorch threads (default: what the trainer picks;
                       PyTorch: every core, ${cores} here)
  --torch-blas-threads <n>  OpenBLAS threads under each PyTorch thread (default 1; 0 keeps OpenBLAS's
                       own pool, which oversubscribes the cores and slows PyTorch 2.5-4x on Debian)
  --backends <list>    backends to time (default: every one that works here except cpu; wasm with --torch)
  --minutes <m>        training time per model with --quality (default 5)
  --work-dir <dir>     where --quality keeps datasets, runs and images (default: a temporary folder)
  --json <file>        write every figure as JSON to <file>
  --rss-steps <n>      steps of the memory run (default 300; 0 skips it)
  --skip-import        skip the dataset import bench
  --import-count <n>   JPEGs in the import bench (default 1000)
  --python <path>      python3 with torch and Pillow (default /usr/bin/python3)`
}

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`)
  return n
}

function num(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${value}"`)
  return n
}

function list<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T[]): T[] {
  if (value === undefined) return fallback
  const items = value.split(',').map((s) => s.trim())
  const out: T[] = []
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new UsageError(`--${name}: "${item}" is not one of ${allowed.join(', ')}`)
    if (!out.includes(item as T)) out.push(item as T)
  }
  return out
}

export function parseOptions(argv: string[]): Options | 'help' {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        torch: { type: 'boolean' },
        profile: { type: 'boolean' },
        quality: { type: 'boolean' },
        json: { type: 'string' },
        resolutions: { type: 'string' },
        families: { type: 'string' },
        widths: { type: 'string' },
        backends: { type: 'string' },
        batch: { type: 'string' },
        steps: { type: 'string' },
        seconds: { type: 'string' },
        rounds: { type: 'string' },
        'max-spread': { type: 'string' },
        threads: { type: 'string' },
        'torch-blas-threads': { type: 'string' },
        'rss-steps': { type: 'string' },
        'skip-import': { type: 'boolean' },
        'import-count': { type: 'string' },
        python: { type: 'string' },
        minutes: { type: 'string' },
        'work-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''))
  }
  const v = parsed.values
  if (v.help) return 'help'
  const modes = (['torch', 'profile', 'quality'] as const).filter((m) => v[m])
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} cannot be combined: run them one after the other`)
  const mode: Mode = modes[0] ?? 'speed'
  const resolutions = list('resolutions', v.resolutions, RESOLUTIONS.map(String), ['32', '64']).map(Number)
  const backends = v.backends === undefined ? null : list('backends', v.backends, BACKEND_NAMES, [])
  if (mode === 'torch' && backends && backends.length !== 1) throw new UsageError('--torch compares one backend with PyTorch: give one in --backends')
  return {
    mode,
    json: v.json ?? null,
    resolutions,
    families: list('families', v.families, MODEL_ARCHS, [...MODEL_ARCHS]),
    widths: list('widths', v.widths, WIDTHS, mode === 'torch' ? ['default', 'narrow'] : ['default']),
    backends,
    batch: int('batch', v.batch, 32, configField('batchSize').minimum!, configField('batchSize').maximum!),
    steps: int('steps', v.steps, 5, 1, 100_000),
    seconds: num('seconds', v.seconds, 8, 0, 3600),
    rounds: int('rounds', v.rounds, 5, 1, 100),
    maxSpread: num('max-spread', v['max-spread'], 10, 0.1, 100) / 100,
    threads: v.threads === undefined ? null : int('threads', v.threads, 1, 1, 64),
    torchBlasThreads: int('torch-blas-threads', v['torch-blas-threads'], 1, 0, 64),
    rssSteps: int('rss-steps', v['rss-steps'], 300, 0, 1_000_000),
    import: !v['skip-import'],
    importCount: int('import-count', v['import-count'], 1000, 1, 100_000),
    python: v.python,
    minutes: num('minutes', v.minutes, 5, 0.05, 600),
    workDir: v['work-dir'] ?? null
  }
}
