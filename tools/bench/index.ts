import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { BackendName } from '@shared/config'
import { toErrorShape } from '@shared/errors'
import { writeJsonAtomic } from '../../src/main/util/fs'
import { APP_VERSION } from '../../src/main/util/version'
import { probeBackends } from '../../src/main/trainer/tf/backends'
import { availableCores } from '../../src/main/trainer/tf/wasm'
import { machineInfo } from './load'
import { printProfile, runProfile, type ProfileResult } from './profile'
import { parseOptions, usage, UsageError, WIDTH_SHAPES, type Options } from './args'
import { runImportBench, type ImportBenchResult } from './import'
import { runTorchRounds } from './rounds'
import { measureWindow, runRssCase, runTrainCase, describeStepper, warmUp, type RssResult, type TrainCase, type TrainResult } from './train-bench'
import type { EngineMessage } from './engines'

/**
 * `npm run bench` — how fast GAN Studio trains and imports on this machine, beside PyTorch
 * (`--torch`), where a step's time goes (`--profile`), and what equal minutes buy (`--quality`).
 * `--help` lists the options. Every training case runs in a child process of its own.
 */

// ——— child processes ———

type ChildJob = { kind: 'train'; case: TrainCase } | { kind: 'rss'; case: TrainCase & { steps: number } } | { kind: 'profile'; case: TrainCase & { profileSteps: number } }
type ChildReply = { ok: true; result: TrainResult | RssResult | ProfileResult } | { ok: false; error: string }

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
        : job.kind === 'profile'
          ? await runProfile(job.case)
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

function printTrainTable(results: TrainResult[]): void {
  const rows: string[][] = [['model', 'engine', 'px', 'img/s', 'ms/step', 'CPU ms/step', 'peak RSS']]
  for (const r of results)
    rows.push([
      `${r.arch} G${r.model.gChannels} D${r.model.dChannels} z${r.model.latentDim}`,
      r.detail,
      String(r.resolution),
      f1(r.imagesPerSec),
      r.msPerStep.toFixed(0),
      r.cpuMsPerStep.toFixed(0),
      `${r.peakRssMiB.toFixed(0)} MiB`
    ])
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const [i, row] of rows.entries()) {
    process.stdout.write(row.map((c, j) => (j < 2 ? pad(c, widths[j]!) : lpad(c, widths[j]!))).join('  ') + '\n')
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
  trainingErrors: { backend: BackendName; case: string; error: string }[]
  memory: RssResult | { error: string } | null
  import: ImportBenchResult | { error: string } | null
}

/** `--engine <case>`: one of `--torch`'s engines; waits for `measure` messages (engines.ts). */
async function engineMain(json: string): Promise<void> {
  const c = JSON.parse(json) as TrainCase
  const send = (m: EngineMessage) => process.send?.(m)
  try {
    const { stepper, firstStepMs } = await warmUp(c)
    send({ type: 'ready', detail: describeStepper(stepper) })
    let busy = Promise.resolve()
    process.on('message', (m: { type: string; seconds: number; minSteps: number }) => {
      if (m.type !== 'measure') return
      busy = busy.then(async () => {
        try {
          const result = await measureWindow(stepper, c.batch, m.seconds, m.minSteps, firstStepMs, () => send({ type: 'start' }))
          send({ type: 'result', result })
        } catch (err) {
          send({ type: 'error', error: toErrorShape(err).message })
        }
      })
    })
    process.on('disconnect', () => process.exit(0))
  } catch (err) {
    // Exit once the message is out: the parent reads the reason from it.
    process.send?.({ type: 'error', error: toErrorShape(err).message } satisfies EngineMessage, () => process.exit(1))
  }
}

function caseLabel(c: { arch: string; resolution: number; widths: string }): string {
  return `${c.arch} ${c.resolution} px, ${c.widths} widths`
}

/** `--profile`: the default runner's speed (for the whole machine's share of peak), then one thread profiled. */
async function profileMode(opts: Options): Promise<number> {
  const machine = machineInfo()
  const out = (line = '') => process.stdout.write(line + '\n')
  out(`GAN Studio ${APP_VERSION} bench --profile — ${machine.cpu} at ${(machine.mhz / 1000).toFixed(2)} GHz, ${machine.cores} cores, Node ${machine.node}`)
  const results: { profile: ProfileResult; parallel: TrainResult | null }[] = []
  let failed = 0
  for (const arch of opts.families)
    for (const widths of opts.widths)
      for (const resolution of opts.resolutions) {
        const c: TrainCase = { backend: 'wasm', resolution, batch: opts.batch, model: { arch, ...WIDTH_SHAPES[widths] }, minSteps: opts.steps, minSeconds: opts.seconds, warmupSteps: 3, threads: opts.threads ?? undefined }
        out()
        const speed = await runChild({ kind: 'train', case: c })
        const profile = await runChild({ kind: 'profile', case: { ...c, profileSteps: Math.max(opts.steps, 5) } })
        if (!profile.ok) {
          failed++
          out(`${caseLabel({ arch, resolution, widths })}: not profiled: ${profile.error}`)
          continue
        }
        const parallel = speed.ok ? (speed.result as TrainResult) : null
        printProfile(profile.result as ProfileResult, machine.mhz, out, parallel ? { imagesPerSec: parallel.imagesPerSec, cores: machine.cores, detail: parallel.detail } : null)
        if (!speed.ok) out(`  (the whole-machine speed was not measured: ${speed.error})`)
        results.push({ profile: profile.result as ProfileResult, parallel })
      }
  if (opts.json) {
    await writeJsonAtomic(opts.json, { app: APP_VERSION, date: new Date().toISOString(), machine, results })
    out(`\nResults written to ${opts.json}`)
  }
  return failed && !results.length ? 1 : 0
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    await childMain(argv[1] ?? '{}')
    return 0
  }
  if (argv[0] === '--engine') {
    await engineMain(argv[1] ?? '{}')
    return -1
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
    process.stdout.write(usage(availableCores()) + '\n')
    return 0
  }
  if (opts.mode === 'torch') return runTorchRounds(opts, fileURLToPath(import.meta.url))
  if (opts.mode === 'profile') return profileMode(opts)
  if (opts.mode === 'quality') return (await import('./quality')).runQuality(opts)

  const machine = machineInfo()
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
    memory: null,
    import: null
  }

  // Which backends: the ones asked for, else every one that works here except cpu (minutes per step).
  const statuses = await probeBackends()
  report.backends = statuses.map(({ name, available, reason }) => ({ name, available, reason }))
  for (const s of statuses) if (!s.available) process.stdout.write(`  not timed: ${s.reason}\n`)
  const backends = opts.backends ?? statuses.filter((s) => s.available && s.name !== 'cpu').map((s) => s.name)

  process.stdout.write(`\nTraining, batch ${opts.batch}: the trainer's step (generator and discriminator) through its runner\n`)
  const threads = opts.threads ?? undefined
  for (const arch of opts.families)
    for (const widths of opts.widths)
      for (const resolution of opts.resolutions)
        for (const backend of backends) {
          const label = caseLabel({ arch, resolution, widths })
          process.stdout.write(`  ${label} on ${backend}…\n`)
          const reply = await runChild({
            kind: 'train',
            case: { backend, resolution, batch: opts.batch, model: { arch, ...WIDTH_SHAPES[widths] }, minSteps: opts.steps, minSeconds: opts.seconds, warmupSteps: 2, threads }
          })
          if (reply.ok) report.training.push(reply.result as TrainResult)
          else {
            report.trainingErrors.push({ backend, case: label, error: reply.error })
            process.stdout.write(`    failed: ${reply.error}\n`)
          }
        }
  process.stdout.write('\n')
  printTrainTable(report.training)

  if (opts.rssSteps > 0) {
    const fastest = report.training.filter((r) => r.resolution === 32 || opts.resolutions.length === 1).sort((a, b) => b.imagesPerSec - a.imagesPerSec)[0]
    const backend = fastest?.backend ?? backends[0]
    if (backend) {
      const resolution = opts.resolutions.includes(32) ? 32 : opts.resolutions[0]!
      process.stdout.write(`\nMemory: ${opts.rssSteps} steps on ${backend} at ${resolution} px\n`)
      const reply = await runChild({
        kind: 'rss',
        case: { backend, resolution, batch: opts.batch, minSteps: 0, minSeconds: 0, warmupSteps: 0, threads, steps: opts.rssSteps }
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
    if (code >= 0 && !process.argv.includes('--child')) process.exit(code)
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${toErrorShape(err).message}\n`)
    process.exit(1)
  }
)
