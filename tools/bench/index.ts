import { fork } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { BACKEND_NAMES, type BackendName } from '@shared/config'
import { toErrorShape } from '@shared/errors'
import { writeJsonAtomic } from '../../src/main/util/fs'
import { APP_VERSION } from '../../src/main/util/version'
import { probeBackends } from '../../src/main/trainer/tf/backends'
import { availableCores } from '../../src/main/trainer/tf/wasm'
import { runImportBench, type ImportBenchResult } from './import'
import { runRssCase, runTorch, runTrainCase, type RssResult, type TorchResult, type TrainCase, type TrainResult } from './train-bench'

/**
 * `npm run bench` — how fast GAN Studio trains and imports on this machine.
 *
 *   tsx tools/bench/index.ts [--torch] [--json <file>] [--resolutions 32,64] [--backends wasm,webgpu]
 *                          [--batch 32] [--steps N] [--seconds S] [--threads N] [--rss-steps N]
 *                          [--skip-import] [--import-count N] [--python <path>]
 *
 * Each training case runs in a child process of its own (peak RSS per case, no shared state).
 */

const USAGE = `Usage: npm run bench -- [options]
  --torch              also train the PyTorch twin (tools/bench/torch_dcgan.py) and print our/PyTorch ratios
  --json <file>        write every figure as JSON to <file>
  --resolutions <list> image sizes to train at (default 32,64)
  --backends <list>    backends to time (default: every one that works here, except cpu)
  --batch <n>          batch size (default 32)
  --steps <n>          timed steps per case, at least (default 5)
  --seconds <s>        timed seconds per case, at least (default 8)
  --threads <n>        wasm and PyTorch threads (default: every core, ${availableCores()} here)
  --rss-steps <n>      steps of the memory run at 32 px on the fastest backend (default 300; 0 skips it)
  --skip-import        skip the dataset import bench (decode + resize 1,000 JPEGs, beside Pillow)
  --import-count <n>   JPEGs in the import bench (default 1000)
  --python <path>      python3 with torch and Pillow (default /usr/bin/python3)`

class UsageError extends Error {}

interface Options {
  torch: boolean
  json: string | null
  resolutions: number[]
  backends: BackendName[] | null
  batch: number
  steps: number
  seconds: number
  threads: number
  rssSteps: number
  import: boolean
  importCount: number
  python: string | undefined
}

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`)
  return n
}

function parseOptions(argv: string[]): Options | 'help' {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        torch: { type: 'boolean' },
        json: { type: 'string' },
        resolutions: { type: 'string' },
        backends: { type: 'string' },
        batch: { type: 'string' },
        steps: { type: 'string' },
        seconds: { type: 'string' },
        threads: { type: 'string' },
        'rss-steps': { type: 'string' },
        'skip-import': { type: 'boolean' },
        'import-count': { type: 'string' },
        python: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''))
  }
  const v = parsed.values
  if (v.help) return 'help'
  const resolutions = (v.resolutions ?? '32,64').split(',').map((r) => {
    const n = Number(r.trim())
    if (![32, 64, 128, 256].includes(n)) throw new UsageError(`--resolutions: ${r} is not one of 32, 64, 128, 256`)
    return n
  })
  let backends: BackendName[] | null = null
  if (v.backends !== undefined) {
    backends = v.backends.split(',').map((b) => {
      const name = b.trim() as BackendName
      if (!BACKEND_NAMES.includes(name)) throw new UsageError(`--backends: ${b} is not one of ${BACKEND_NAMES.join(', ')}`)
      return name
    })
  }
  const seconds = v.seconds === undefined ? 8 : Number(v.seconds)
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) throw new UsageError(`--seconds must be from 0 to 3600, got "${v.seconds}"`)
  return {
    torch: v.torch ?? false,
    json: v.json ?? null,
    resolutions,
    backends,
    batch: int('batch', v.batch, 32, 1, 256),
    steps: int('steps', v.steps, 5, 1, 100_000),
    seconds,
    threads: int('threads', v.threads, availableCores(), 1, 64),
    rssSteps: int('rss-steps', v['rss-steps'], 300, 0, 1_000_000),
    import: !v['skip-import'],
    importCount: int('import-count', v['import-count'], 1000, 1, 100_000),
    python: v.python
  }
}

// ——— child processes ———

type ChildJob = { kind: 'train'; case: TrainCase } | { kind: 'rss'; case: TrainCase & { steps: number } }
type ChildReply = { ok: true; result: TrainResult | RssResult } | { ok: false; error: string }

async function runChild(job: ChildJob): Promise<ChildReply> {
  const script = fileURLToPath(import.meta.url)
  return new Promise((resolve) => {
    const child = fork(script, ['--child', JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
    let reply: ChildReply | null = null
    let stderr = ''
    let samples = 0
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('message', (m) => {
      const msg = m as { type: string; reply?: ChildReply; sample?: RssResult['samples'][number] }
      if (msg.type === 'reply') reply = msg.reply!
      else if (msg.type === 'sample' && msg.sample && samples++ % 4 === 3)
        process.stdout.write(`  step ${msg.sample.step}: RSS ${msg.sample.rssMiB.toFixed(0)} MiB, ${msg.sample.tensors} tensors\n`)
    })
    child.on('exit', (code, signal) => {
      if (reply) return resolve(reply)
      const last = stderr
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('Warning: max'))
        .at(-1)
      resolve({ ok: false, error: `the bench process ${signal ? `was killed (${signal})` : `exited with code ${code}`}${last ? `: ${last}` : ''}` })
    })
  })
}

async function childMain(json: string): Promise<void> {
  const job = JSON.parse(json) as ChildJob
  let reply: ChildReply
  try {
    const result =
      job.kind === 'train'
        ? await runTrainCase(job.case)
        : await runRssCase({ ...job.case, onSample: (sample) => process.send?.({ type: 'sample', sample }) })
    reply = { ok: true, result }
  } catch (err) {
    reply = { ok: false, error: toErrorShape(err).message }
  }
  process.send?.({ type: 'reply', reply }, () => process.exit(0))
}

// ——— output ———

const f1 = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1))
const pad = (s: string, n: number) => s.padEnd(n)
const lpad = (s: string, n: number) => s.padStart(n)

function printTrainTable(results: TrainResult[], torch: TorchResult[]): void {
  const rows: string[][] = [['engine', 'px', 'img/s', 'ms/step', 'CPU ms/step', 'peak RSS', 'vs PyTorch']]
  for (const r of results) {
    const t = torch.find((x) => x.resolution === r.resolution)
    rows.push([
      r.detail,
      String(r.resolution),
      f1(r.imagesPerSec),
      r.msPerStep.toFixed(0),
      r.cpuMsPerStep.toFixed(0),
      `${r.peakRssMiB.toFixed(0)} MiB`,
      t ? `${(r.imagesPerSec / t.imagesPerSec).toFixed(2)}×` : ''
    ])
  }
  for (const t of torch)
    rows.push([
      `PyTorch ${t.torch} CPU (${t.threads} thread${t.threads === 1 ? '' : 's'})`,
      String(t.resolution),
      f1(t.imagesPerSec),
      t.msPerStep.toFixed(0),
      t.cpuMsPerStep.toFixed(0),
      `${t.peakRssMiB.toFixed(0)} MiB`,
      '1.00×'
    ])
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const [i, row] of rows.entries()) {
    process.stdout.write(row.map((c, j) => (j === 0 ? pad(c, widths[j]!) : lpad(c, widths[j]!))).join('  ') + '\n')
    if (i === 0) process.stdout.write(widths.map((w) => '─'.repeat(w)).join('  ') + '\n')
  }
}

interface BenchReport {
  app: string
  date: string
  machine: { cpu: string; cores: number; memoryGiB: number; platform: string; node: string }
  settings: Omit<Options, 'json' | 'python'>
  backends: { name: BackendName; available: boolean; reason: string | null }[]
  training: TrainResult[]
  trainingErrors: { backend: BackendName; resolution: number; error: string }[]
  torch: TorchResult[] | { error: string } | null
  /** our images/s ÷ PyTorch's, per resolution, for the fastest of our CPU backends. */
  ratios: { resolution: number; backend: BackendName; detail: string; ours: number; pytorch: number; ratio: number }[]
  memory: RssResult | { error: string } | null
  import: ImportBenchResult | { error: string } | null
}

const CPU_BACKENDS: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow']

async function main(argv: string[]): Promise<number> {
  const childIndex = argv.indexOf('--child')
  if (childIndex >= 0) {
    await childMain(argv[childIndex + 1] ?? '{}')
    return 0
  }
  let opts: Options | 'help'
  try {
    opts = parseOptions(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message} (see --help)\n`)
      return 2
    }
    throw err
  }
  if (opts === 'help') {
    process.stdout.write(USAGE + '\n')
    return 0
  }

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableCores(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node
  }
  process.stdout.write(`GAN Studio ${APP_VERSION} bench — ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}\n`)
  const { json: jsonFile, python, ...settings } = opts
  const report: BenchReport = {
    app: APP_VERSION,
    date: new Date().toISOString(),
    machine,
    settings,
    backends: [],
    training: [],
    trainingErrors: [],
    torch: null,
    ratios: [],
    memory: null,
    import: null
  }

  // Which backends: the ones asked for, else every one that works here except cpu (minutes per step).
  const statuses = await probeBackends()
  report.backends = statuses.map(({ name, available, reason }) => ({ name, available, reason }))
  for (const s of statuses) if (!s.available) process.stdout.write(`  not timed: ${s.reason}\n`)
  const backends = opts.backends ?? statuses.filter((s) => s.available && s.name !== 'cpu').map((s) => s.name)

  process.stdout.write(`\nTraining: DCGAN (the default model), batch ${opts.batch}, one generator + one discriminator step\n`)
  for (const resolution of opts.resolutions) {
    for (const backend of backends) {
      process.stdout.write(`  ${backend} at ${resolution} px…\n`)
      const reply = await runChild({
        kind: 'train',
        case: { backend, resolution, batch: opts.batch, minSteps: opts.steps, minSeconds: opts.seconds, warmupSteps: 2, threads: opts.threads }
      })
      if (reply.ok) report.training.push(reply.result as TrainResult)
      else {
        report.trainingErrors.push({ backend, resolution, error: reply.error })
        process.stdout.write(`    failed: ${reply.error}\n`)
      }
    }
  }

  let torch: TorchResult[] = []
  if (opts.torch) {
    process.stdout.write(`  PyTorch (${opts.threads} threads)…\n`)
    const res = await runTorch({
      python,
      resolutions: opts.resolutions,
      batch: opts.batch,
      minSteps: opts.steps,
      minSeconds: opts.seconds,
      warmupSteps: 2,
      threads: opts.threads
    })
    if ('error' in res) {
      report.torch = res
      process.stdout.write(`    PyTorch not timed: ${res.error}\n`)
    } else torch = report.torch = res.results
  }
  process.stdout.write('\n')
  printTrainTable(report.training, torch)

  for (const t of torch) {
    const best = report.training
      .filter((r) => r.resolution === t.resolution && CPU_BACKENDS.includes(r.backend))
      .sort((a, b) => b.imagesPerSec - a.imagesPerSec)[0]
    if (best)
      report.ratios.push({
        resolution: t.resolution,
        backend: best.backend,
        detail: best.detail,
        ours: best.imagesPerSec,
        pytorch: t.imagesPerSec,
        ratio: best.imagesPerSec / t.imagesPerSec
      })
  }
  if (report.ratios.length) {
    process.stdout.write('\nOurs ÷ PyTorch (best CPU backend, images/s):\n')
    for (const r of report.ratios) process.stdout.write(`  ${r.resolution} px: ${r.ratio.toFixed(2)}× (${f1(r.ours)} vs ${f1(r.pytorch)} img/s, ${r.detail})\n`)
  }

  if (opts.rssSteps > 0) {
    const fastest = report.training.filter((r) => r.resolution === 32 || opts.resolutions.length === 1).sort((a, b) => b.imagesPerSec - a.imagesPerSec)[0]
    const backend = fastest?.backend ?? backends[0]
    if (backend) {
      const resolution = opts.resolutions.includes(32) ? 32 : opts.resolutions[0]!
      process.stdout.write(`\nMemory: ${opts.rssSteps} steps on ${backend} at ${resolution} px\n`)
      const reply = await runChild({
        kind: 'rss',
        case: { backend, resolution, batch: opts.batch, minSteps: 0, minSeconds: 0, warmupSteps: 0, threads: opts.threads, steps: opts.rssSteps }
      })
      if (reply.ok) {
        const m = (report.memory = reply.result as RssResult)
        process.stdout.write(
          `  RSS ${m.rssWarmMiB.toFixed(0)} MiB after warm-up → ${m.rssEndMiB.toFixed(0)} MiB at step ${m.steps} ` +
            `(${m.driftPercent >= 0 ? '+' : ''}${m.driftPercent.toFixed(1)}%, max ${m.rssMaxMiB.toFixed(0)} MiB); live tensors ${m.tensorGrowth === 0 ? 'unchanged' : `grew by ${m.tensorGrowth}`}\n`
        )
      } else {
        report.memory = { error: reply.error }
        process.stdout.write(`  failed: ${reply.error}\n`)
      }
    }
  }

  if (opts.import) {
    process.stdout.write(`\nImport: ${opts.importCount} JPEGs decoded and resized to the 64 px cache, beside Pillow\n`)
    try {
      const r = (report.import = await runImportBench({ count: opts.importCount, python, log: (l) => process.stdout.write(`  ${l}\n`) }))
      process.stdout.write(`  ours: ${f1(r.ours.imagesPerSec)} images/s`)
      process.stdout.write(r.pillow ? `, Pillow: ${f1(r.pillow.imagesPerSec)} images/s (${(r.ours.imagesPerSec / r.pillow.imagesPerSec).toFixed(2)}×)\n` : '\n')
      if (r.note) process.stdout.write(`  ${r.note}\n`)
    } catch (err) {
      report.import = { error: toErrorShape(err).message }
      process.stdout.write(`  failed: ${report.import.error}\n`)
    }
  }

  if (jsonFile) {
    await writeJsonAtomic(jsonFile, report)
    process.stdout.write(`\nResults written to ${jsonFile}\n`)
  }
  return report.trainingErrors.length && !report.training.length ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => {
    if (!process.argv.includes('--child')) process.exit(code)
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${toErrorShape(err).message}\n`)
    process.exit(1)
  }
)
