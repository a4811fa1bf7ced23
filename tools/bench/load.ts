import { readdirSync, readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { availableCores } from '../../src/main/trainer/tf/wasm'

/**
 * How busy the machine is, from Linux's /proc: the load average, the CPU time every process has
 * used, and the machine's total busy time. Two snapshots taken around a timed window say how
 * many cores the engine under test used and how many everything else took meanwhile. Elsewhere
 * (no /proc) the readers return null and the bench says it could not tell.
 */

export interface LoadAverage {
  one: number
  five: number
  fifteen: number
  running: number
  total: number
}

/** /proc/loadavg: "0.52 0.58 0.59 2/277 12345". */
export function parseLoadavg(text: string): LoadAverage | null {
  const m = /^\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\/(\d+)/.exec(text)
  if (!m) return null
  return { one: Number(m[1]), five: Number(m[2]), fifteen: Number(m[3]), running: Number(m[4]), total: Number(m[5]) }
}

/** Busy and total clock ticks over all CPUs from /proc/stat's first ("cpu ") line. */
export function parseProcStat(text: string): { busy: number; total: number } | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '))
  if (!line) return null
  const f = line.trim().split(/\s+/).slice(1).map(Number)
  if (f.length < 4 || f.some((x) => !Number.isFinite(x))) return null
  // user nice system idle iowait irq softirq steal [guest guest_nice: already inside user/nice]
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f
  const busy = user + nice + system + irq + softirq + steal
  return { busy, total: busy + idle + iowait }
}

export interface PidStat {
  pid: number
  ppid: number
  comm: string
  /** utime + stime in clock ticks (every thread of the process). */
  ticks: number
}

/**
 * /proc/<pid>/stat: "pid (comm) state ppid … utime stime …". The command name may hold spaces
 * and parentheses, so the fields after it are found from the last ")".
 */
export function parsePidStat(text: string): PidStat | null {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return null
  const pid = Number(text.slice(0, open).trim())
  const rest = text.slice(close + 1).trim().split(/\s+/)
  // rest[0] is the state (field 3); utime and stime are fields 14 and 15.
  const ppid = Number(rest[1])
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  if (!Number.isInteger(pid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null
  return { pid, ppid, comm: text.slice(open + 1, close), ticks: utime + stime }
}

export interface MachineSnapshot {
  at: number
  load: LoadAverage | null
  cpu: { busy: number; total: number } | null
  procs: Map<number, PidStat>
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** Reads the machine's state now (`procRoot` is for tests). */
export function snapshot(procRoot = '/proc'): MachineSnapshot {
  const procs = new Map<number, PidStat>()
  let entries: string[] = []
  try {
    entries = readdirSync(procRoot).filter((e) => /^\d+$/.test(e))
  } catch {
    // no /proc here
  }
  for (const e of entries) {
    const text = readText(`${procRoot}/${e}/stat`)
    const s = text ? parsePidStat(text) : null
    if (s) procs.set(s.pid, s)
  }
  const load = readText(`${procRoot}/loadavg`)
  const stat = readText(`${procRoot}/stat`)
  return { at: performance.now(), load: load ? parseLoadavg(load) : null, cpu: stat ? parseProcStat(stat) : null, procs }
}

export interface WindowLoad {
  seconds: number
  /** 1-minute load average at the end of the window. */
  loadAverage: number | null
  /** Cores the measured processes used (all their threads), on average over the window. */
  engineCores: number | null
  /** Cores everything else used: the machine's busy time less the measured processes'. */
  otherCores: number | null
  /** The busiest other processes (name and cores), at most three. */
  top: { comm: string; cores: number }[]
}

/**
 * What happened between two snapshots. `ours` are the pids of the processes under test (their
 * own CPU is not "other"); `exclude` are pids that are neither (the bench's own parent process).
 */
export function windowLoad(a: MachineSnapshot, b: MachineSnapshot, ours: readonly number[], exclude: readonly number[] = [], ticksPerSecond = 100): WindowLoad {
  const seconds = (b.at - a.at) / 1000
  const delta = (pid: number): number => {
    const x = a.procs.get(pid)
    const y = b.procs.get(pid)
    return x && y && x.comm === y.comm ? Math.max(0, y.ticks - x.ticks) : 0
  }
  const engineTicks = ours.reduce((sum, pid) => sum + delta(pid), 0)
  const excludedTicks = exclude.reduce((sum, pid) => sum + delta(pid), 0)
  const skip = new Set([...ours, ...exclude])
  const others: { comm: string; ticks: number }[] = []
  for (const [pid] of b.procs) {
    if (skip.has(pid)) continue
    const t = delta(pid)
    if (t > 0) others.push({ comm: b.procs.get(pid)!.comm, ticks: t })
  }
  const byName = new Map<string, number>()
  for (const o of others) byName.set(o.comm, (byName.get(o.comm) ?? 0) + o.ticks)
  const cores = (ticks: number) => (seconds > 0 ? ticks / ticksPerSecond / seconds : 0)
  const top = [...byName.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 3)
    .map(([comm, ticks]) => ({ comm, cores: cores(ticks) }))
  let otherCores: number | null = null
  if (a.cpu && b.cpu && seconds > 0) otherCores = Math.max(0, cores(b.cpu.busy - a.cpu.busy - engineTicks - excludedTicks))
  const havePids = ours.some((pid) => a.procs.has(pid) && b.procs.has(pid))
  return { seconds, loadAverage: b.load?.one ?? null, engineCores: havePids ? cores(engineTicks) : null, otherCores, top }
}

/** "load 1.2, others 0.4 cores (node 0.3, chromium 0.1)" */
export function describeLoad(w: WindowLoad): string {
  const parts: string[] = []
  if (w.loadAverage !== null) parts.push(`load ${w.loadAverage.toFixed(2)}`)
  if (w.otherCores !== null) {
    const top = w.top.filter((t) => t.cores >= 0.05)
    parts.push(`others ${w.otherCores.toFixed(2)} cores${top.length ? ` (${top.map((t) => `${t.comm} ${t.cores.toFixed(2)}`).join(', ')})` : ''}`)
  }
  return parts.length ? parts.join(', ') : 'machine load unknown (no /proc)'
}

/** The machine, for the report's first line. */
export function machineInfo() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableCores(),
    mhz: cpuMhz(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node
  }
}

/** The clock from /proc/cpuinfo's first "cpu MHz" line ("cpu MHz\t\t: 2596.144"), or Node's figure. */
export function parseCpuMhz(text: string): number | null {
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(text)
  return m ? Number(m[1]) : null
}

export function cpuMhz(): number {
  return parseCpuMhz(readText('/proc/cpuinfo') ?? '') ?? cpus()[0]?.speed ?? 0
}
