import cliProgress from 'cli-progress'
import type { TrainProgress } from '@shared/contract'
import type { ImportProgress } from '@shared/datasets'
import type { MetricRecord } from '@shared/runs'
import { formatDuration, type CliIo } from './io'

/**
 * Training progress: a live bar (step, images/s, ETA, losses) on a terminal; plain lines at most
 * every few seconds otherwise (logs, CI, pipes). cli-progress handles terminal redraws.
 */
export class TrainProgressView {
  private bar: cliProgress.SingleBar | null = null
  private lastLine = 0
  private metric: MetricRecord | null = null
  private payload = { ips: '-', etaText: '--:--', g: '-', d: '-' }
  private value = 0
  private total = 0

  constructor(
    private readonly io: CliIo,
    private readonly plainEveryMs = 5000
  ) {}

  start(step: number, total: number): void {
    this.value = step
    this.total = total
    if (this.io.tty) this.showBar()
  }

  private showBar(): void {
    this.bar = new cliProgress.SingleBar(
      { format: ' {bar} {value}/{total} steps | {ips} img/s | ETA {etaText} | G {g} D {d}', barsize: 28, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic
    )
    this.bar.start(this.total, this.value, this.payload)
  }

  update(p: TrainProgress): void {
    if (p.metric) this.metric = p.metric
    this.value = p.step
    this.total = p.steps
    this.payload = {
      ips: p.imagesPerSec > 0 ? p.imagesPerSec.toFixed(1) : '-',
      etaText: formatDuration(p.etaMs),
      g: this.metric ? this.metric.gLoss.toFixed(3) : '-',
      d: this.metric ? this.metric.dLoss.toFixed(3) : '-'
    }
    if (this.bar) {
      this.bar.setTotal(p.steps)
      this.bar.update(p.step, this.payload)
      return
    }
    const now = Date.now()
    if (p.metric && (now - this.lastLine >= this.plainEveryMs || p.step === p.steps)) {
      this.lastLine = now
      this.io.out(
        `step ${p.step}/${p.steps}  ${this.payload.ips} img/s  ETA ${this.payload.etaText}  G ${this.payload.g}  D ${this.payload.d}  D(real) ${this.metric!.dReal.toFixed(2)}  D(fake) ${this.metric!.dFake.toFixed(2)}`
      )
    }
  }

  /** A log line from the trainer, printed above the bar. */
  log(line: string): void {
    if (!this.bar) {
      this.io.out(line)
      return
    }
    this.bar.stop()
    this.io.out(line)
    if (this.value < this.total) this.showBar()
    else this.bar = null
  }

  stop(): void {
    this.bar?.stop()
    this.bar = null
  }
}

export function importProgressPrinter(io: CliIo): { update: (p: ImportProgress) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null
  let phase = ''
  let lastLine = 0
  return {
    update(p) {
      if (io.tty) {
        if (p.phase !== phase) {
          bar?.stop()
          phase = p.phase
          bar = new cliProgress.SingleBar({ format: ` ${p.phase.padEnd(6)} {bar} {value}/{total} files`, barsize: 28, hideCursor: true }, cliProgress.Presets.shades_classic)
          bar.start(p.total, p.done)
        }
        bar?.setTotal(p.total)
        bar?.update(p.done)
        return
      }
      const now = Date.now()
      if (p.phase !== phase || now - lastLine > 3000 || p.done === p.total) {
        if (p.phase === 'decode' || p.phase !== phase) io.out(`${p.phase}: ${p.done}/${p.total}`)
        phase = p.phase
        lastLine = now
      }
    },
    stop() {
      bar?.stop()
      bar = null
    }
  }
}
