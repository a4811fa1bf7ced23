import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { describeLoad, parseLoadavg, parsePidStat, parseProcStat, snapshot, windowLoad, type MachineSnapshot } from '../../../tools/bench/load'

const root = mkdtempSync(join(tmpdir(), 'bench-proc-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function pidStat(pid: number, comm: string, ppid: number, utime: number, stime: number): string {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
  return `${pid} (${comm}) S ${ppid} 1 1 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 3 0 100 0 0\n`
}

function fakeProc(dir: string, busy: number, idle: number, procs: [number, string, number][], load = '1.50 0.80 0.40 3/200 999'): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'loadavg'), `${load}\n`)
  writeFileSync(join(dir, 'stat'), `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 1 2 3 4\n`)
  for (const [pid, comm, ticks] of procs) {
    mkdirSync(join(dir, String(pid)))
    writeFileSync(join(dir, String(pid), 'stat'), pidStat(pid, comm, 1, ticks, 0))
  }
  mkdirSync(join(dir, 'self'))
}

describe('machine load from /proc', () => {
  it('parses the load average and the machine-wide CPU line', () => {
    expect(parseLoadavg('0.52 0.58 0.59 2/277 12345\n')).toEqual({ one: 0.52, five: 0.58, fifteen: 0.59, running: 2, total: 277 })
    expect(parseLoadavg('garbage')).toBeNull()
    // user nice system idle iowait irq softirq steal guest guest_nice
    expect(parseProcStat('cpu  100 5 20 1000 7 1 2 3 50 0\ncpu0 1 1 1 1\n')).toEqual({ busy: 131, total: 1138 })
    expect(parseProcStat('intr 1 2 3\n')).toBeNull()
  })

  it('parses a process line whose name holds spaces and parentheses', () => {
    const s = parsePidStat(pidStat(4242, 'tsx (watch) x', 17, 250, 30))
    expect(s).toEqual({ pid: 4242, ppid: 17, comm: 'tsx (watch) x', ticks: 280 })
    expect(parsePidStat('no parentheses here')).toBeNull()
  })

  it("splits a window's busy time into the engine's and everyone else's", () => {
    const a = join(root, 'a')
    const b = join(root, 'b')
    fakeProc(a, 1000, 5000, [
      [10, 'node', 500],
      [20, 'python3', 300],
      [30, 'chromium', 100],
      [40, 'bench', 50]
    ])
    const before = snapshot(a)
    fakeProc(b, 1600, 5200, [
      [10, 'node', 900], // the engine: 400 ticks
      [20, 'python3', 450], // another process: 150 ticks
      [30, 'chromium', 130], // another: 30 ticks
      [40, 'bench', 60] // the bench itself, excluded: 10 ticks
    ], '2.25 1.00 0.50 4/210 1000')
    const after = snapshot(b)
    const seconds = 2
    const w = windowLoad({ ...before, at: 0 }, { ...after, at: seconds * 1000 }, [10], [40])
    expect(w.seconds).toBe(2)
    expect(w.loadAverage).toBe(2.25)
    expect(w.engineCores).toBeCloseTo(400 / 100 / seconds, 10)
    // Machine busy 600 ticks − engine 400 − bench 10 = 190 ticks over 2 s.
    expect(w.otherCores).toBeCloseTo(190 / 100 / seconds, 10)
    expect(w.top.map((t) => t.comm)).toEqual(['python3', 'chromium'])
    expect(w.top[0]!.cores).toBeCloseTo(0.75, 10)
    expect(describeLoad(w)).toBe('load 2.25, others 0.95 cores (python3 0.75, chromium 0.15)')
  })

  it('does not count a new process that reused a pid as the old one', () => {
    const a: MachineSnapshot = { at: 0, load: null, cpu: null, procs: new Map([[7, { pid: 7, ppid: 1, comm: 'old', ticks: 100 }]]) }
    const b: MachineSnapshot = { at: 1000, load: null, cpu: null, procs: new Map([[7, { pid: 7, ppid: 1, comm: 'new', ticks: 900 }]]) }
    const w = windowLoad(a, b, [7])
    expect(w.engineCores).toBe(0)
    expect(w.otherCores).toBeNull()
    expect(describeLoad(w)).toBe('machine load unknown (no /proc)')
  })

  it('reads nothing, without throwing, where there is no /proc', () => {
    const s = snapshot(join(root, 'missing'))
    expect(s.procs.size).toBe(0)
    expect(s.load).toBeNull()
    expect(s.cpu).toBeNull()
  })
})
