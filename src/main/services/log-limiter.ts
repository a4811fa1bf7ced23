import type { LogLine } from '@shared/contract'

/** Forwards at most `perSecond` log lines a second; says how many it skipped. */
export class LogLimiter {
  private windowStart = 0
  private count = 0
  private skipped = 0
  private lastRunId: string | null = null

  constructor(
    private readonly perSecond: number,
    private readonly send: (line: LogLine) => void
  ) {}

  push(line: LogLine): void {
    const now = Date.now()
    if (now - this.windowStart >= 1000) {
      this.flush()
      this.windowStart = now
      this.count = 0
    }
    if (this.count < this.perSecond || line.level === 'error') {
      this.count++
      this.send(line)
    } else {
      this.skipped++
      this.lastRunId = line.runId
    }
  }

  flush(): void {
    if (this.skipped === 0) return
    const skipped = this.skipped
    this.skipped = 0
    this.send({ runId: this.lastRunId, level: 'info', message: `(${skipped} log lines skipped)`, time: new Date().toISOString() })
  }
}
