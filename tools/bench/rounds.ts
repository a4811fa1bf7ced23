import { writeJsonAtomic } from '../../src/main/util/fs'
import { APP_VERSION } from '../../src/main/util/version'
import { availableCores } from '../../src/main/trainer/tf/wasm'
import { benchConfig, type TrainCase } from './train-bench'
import { WIDTH_SHAPES, type Options, type Widths } from './args'
import { defaultPython, EngineError, startOurs, startTorch, torchProblem, type Engine, type Window } from './engines'
import { describeLoad, machineInfo } from './load'
import { formatSummary, median, ratioVerdict, summarize, type RatioVerdict, type Summary } from './stats'
import type { ModelArch } from '@shared/config'

/**
 * `--torch`: for each family, resolution and width, our engine and its PyTorch twin are started
 * once, warmed up, and then timed in alternating windows (ours, PyTorch, ours, …). Each engine's
 * images/s and the per-round ratio are summarised by median and range, with the machine's load
 * during every window; a ratio whose spread is too wide to mean anything is withheld.
 */

interface CaseReport {
  arch: ModelArch
  resolution: number
  widths: Widths
  shape: { gChannels: number; dChannels: number; latentDim: number }
  ours: { detail: string; rounds: Window[]; imagesPerSec: Summary } | null
  pytorch: { detail: string; rounds: Window[]; imagesPerSec: Summary } | null
  ratio: (RatioVerdict & { value: number | null }) | null
  error: string | null
}

const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))

export async function runTorchRounds(opts: Options, script: string): Promise<number> {
  const machine = machineInfo()
  const backend = opts.backends?.[0] ?? 'wasm'
  const threads = opts.threads ?? availableCores()
  const python = opts.python ?? defaultPython()
  const out = (line = '') => process.stdout.write(line + '\n')
  const problem = await torchProblem(python)
  if (problem) {
    process.stderr.write(`bench --torch: ${problem}\n`)
    return 1
  }
  out(`GAN Studio ${APP_VERSION} bench --torch — ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`)
  out(`${opts.rounds} alternating rounds of at least ${opts.seconds} s and ${opts.steps} steps per engine, batch ${opts.batch}; ratio = ours ÷ PyTorch per round`)
  out(`A ratio is printed only when it moved at most ±${(opts.maxSpread * 100).toFixed(0)}% around its median across rounds.`)
  const cases: CaseReport[] = []
  for (const arch of opts.families)
    for (const widths of opts.widths)
      for (const resolution of opts.resolutions) {
        const model = { arch, ...WIDTH_SHAPES[widths] }
        const config = benchConfig({ backend, resolution, batch: opts.batch, model })
        const shape = { gChannels: config.model.gChannels, dChannels: config.model.dChannels, latentDim: config.model.latentDim }
        const report: CaseReport = { arch, resolution, widths, shape, ours: null, pytorch: null, ratio: null, error: null }
        cases.push(report)
        out()
        out(`${arch} ${resolution} px, ${widths} widths (G ${shape.gChannels}, D ${shape.dChannels}, z ${shape.latentDim})`)
        const c: TrainCase = { backend, resolution, batch: opts.batch, model, minSteps: opts.steps, minSeconds: opts.seconds, warmupSteps: 3, threads: opts.threads ?? undefined }
        let ours: Engine | null = null
        let torch: Engine | null = null
        try {
          ours = await startOurs(script, c)
          out(`  ours:    ${ours.detail}`)
          torch = await startTorch(python, { arch, resolution, batch: opts.batch, ...shape, threads, blasThreads: opts.torchBlasThreads, warmupSteps: 3 })
          out(`  PyTorch: ${torch.detail}`)
          const oursRounds: Window[] = []
          const torchRounds: Window[] = []
          for (let r = 0; r < opts.rounds; r++) {
            const o = await ours.measure(opts.seconds, opts.steps)
            const t = await torch.measure(opts.seconds, opts.steps)
            oursRounds.push(o)
            torchRounds.push(t)
            out(
              `  round ${r + 1}: ours ${f(o.imagesPerSec)} img/s (${describeLoad(o.load)}) · PyTorch ${f(t.imagesPerSec)} img/s (${describeLoad(t.load)}) · ${(o.imagesPerSec / t.imagesPerSec).toFixed(2)}`
            )
          }
          const oi = oursRounds.map((w) => w.imagesPerSec)
          const ti = torchRounds.map((w) => w.imagesPerSec)
          report.ours = { detail: ours.detail, rounds: oursRounds, imagesPerSec: summarize(oi) }
          report.pytorch = { detail: torch.detail, rounds: torchRounds, imagesPerSec: summarize(ti) }
          const verdict = ratioVerdict(oi, ti, opts.maxSpread)
          report.ratio = { ...verdict, value: verdict.meaningful ? verdict.summary!.median : null }
          const windows = [...oursRounds, ...torchRounds]
          const others = windows.map((w) => w.load.otherCores).filter((x): x is number => x !== null)
          const loads = windows.map((w) => w.load.loadAverage).filter((x): x is number => x !== null)
          out(`  ours     ${formatSummary(report.ours.imagesPerSec)} img/s`)
          out(`  PyTorch  ${formatSummary(report.pytorch.imagesPerSec)} img/s`)
          if (verdict.meaningful) out(`  ratio    ${formatSummary(verdict.summary!, 2)}`)
          else out(`  ratio    withheld: ${verdict.reason}${verdict.summary ? ` (per-round ratios ${verdict.summary.min.toFixed(2)}–${verdict.summary.max.toFixed(2)})` : ''}`)
          if (others.length || loads.length)
            out(`  machine  ${loads.length ? `load average ${median(loads).toFixed(2)} (median)` : ''}${others.length ? `, other processes ${median(others).toFixed(2)} of ${machine.cores} cores (median, max ${Math.max(...others).toFixed(2)})` : ''}`)
        } catch (err) {
          report.error = err instanceof EngineError ? err.message : String((err as Error).message ?? err)
          out(`  not timed: ${report.error}`)
        } finally {
          await ours?.close()
          await torch?.close()
        }
      }

  out()
  out('Summary (median img/s; ratio only where its spread allows)')
  for (const c of cases) {
    const label = `  ${c.arch.padEnd(5)} ${String(c.resolution).padStart(3)} px ${c.widths.padEnd(7)}`
    if (!c.ours || !c.pytorch) out(`${label}  not timed${c.error ? `: ${c.error}` : ''}`)
    else out(`${label}  ours ${f(c.ours.imagesPerSec.median).padStart(5)}  PyTorch ${f(c.pytorch.imagesPerSec.median).padStart(5)}  ${c.ratio?.meaningful ? `${c.ratio.value!.toFixed(2)}×` : 'ratio withheld'}`)
  }
  if (opts.json) {
    await writeJsonAtomic(opts.json, { app: APP_VERSION, date: new Date().toISOString(), machine, settings: { ...opts, python }, backend, cases })
    out(`\nResults written to ${opts.json}`)
  }
  return cases.every((c) => c.error) ? 1 : 0
}
