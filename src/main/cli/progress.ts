import cliProgress from 'cli-progress'
import type { TrainProgress } from '@shared/contract'
import type { ImportProgress } from '@shared/datasets'
import type { MetricRecord } from '@shared/runs'
import { formatDuration, type CliIo, type CommandIo } from './io'

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

/**
 * Progress of a count (frames, images, files): a bar on a terminal; otherwise a plain line every
 * few seconds and at the end (`announce` also prints the first report, e.g. as a phase begins).
 */
export function progressPrinter(
  io: CommandIo,
  label: string,
  opts: { unit?: string; announce?: boolean; plainEveryMs?: number } = {}
): { update: (done: number, total: number) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null
  let last = opts.announce ? Number.NEGATIVE_INFINITY : Date.now()
  const unit = opts.unit ? ` ${opts.unit}` : ''
  let lastLine = ''
  return {
    update(done, total) {
      if (io.tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar({ format: ` ${label} {bar} {value}/{total}${unit}`, barsize: 28, hideCursor: true }, cliProgress.Presets.shades_classic)
          bar.start(total, done)
        }
        bar.setTotal(total)
        bar.update(done)
        return
      }
      const now = Date.now()
      const line = `${label.trim()}: ${done}/${total}`
      if (line !== lastLine && (done === total || now - last > (opts.plainEveryMs ?? 3000))) {
        last = now
        lastLine = line
        io.out(line)
      }
    },
    stop() {
      bar?.stop()
      bar = null
    }
  }
}

/** An import's progress: one count per phase (scan, hash, decode, cache), each announced as it begins. */
export function importProgressPrinter(io: CliIo): { update: (p: ImportProgress) => void; stop: () => void } {
  let phase = ''
  let current: ReturnType<typeof progressPrinter> | null = null
  return {
    update(p) {
      if (p.phase !== phase) {
        current?.stop()
        phase = p.phase
        current = progressPrinter(io, p.phase.padEnd(6), { unit: 'files', announce: true })
      }
      current!.update(p.done, p.total)
    },
    stop() {
      current?.stop()
      current = null
    }
  }
}
