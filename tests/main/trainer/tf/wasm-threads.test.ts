import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/**
 * The threaded wasm build, started our way (wasm.ts), in a fresh Node process as the CLI and the
 * trainer process use it: it must start with more than one thread where the machine has more
 * than one core, compute the same numbers as the single-threaded build, leave no process-wide
 * error handlers behind, and let the process exit when its work is done.
 */

const root = resolve(__dirname, '../../../..')
// Inside the project (node_modules/.tmp) so the script resolves the project's packages.
mkdirSync(join(root, 'node_modules', '.tmp'), { recursive: true })
const dir = mkdtempSync(join(root, 'node_modules', '.tmp', 'wasm-threads-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function runScript(threads: number): { status: number | null; out: string; err: string; ms: number } {
  const script = `
    import * as tf from '@tensorflow/tfjs'
    import { initBackend, describeActiveBackend } from ${JSON.stringify(join(root, 'src/main/trainer/tf/backends.ts'))}
    import { wasmThreads } from ${JSON.stringify(join(root, 'src/main/trainer/tf/wasm.ts'))}
    const before = process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length
    await initBackend('wasm', { wasmThreads: ${threads} })
    const after = process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length
    const x = tf.tensor4d(Array.from({ length: 8 * 16 * 16 * 16 }, (_, i) => Math.sin(i)), [8, 16, 16, 16])
    const w = tf.tensor4d(Array.from({ length: 4 * 4 * 16 * 32 }, (_, i) => Math.cos(i) * 0.1), [4, 4, 16, 32])
    const [dx, dw] = tf.grads((a, b) => tf.conv2d(a, b, 2, 'same').square().sum())([x, w])
    const sums = [await dx.sum().data(), await dw.sum().data()].map((d) => d[0])
    console.log(JSON.stringify({ threads: wasmThreads(), detail: describeActiveBackend(), handlersAdded: after - before, sums }))
  `
  const file = join(dir, `threads-${threads}.mts`)
  writeFileSync(file, script)
  const started = Date.now()
  const res = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: resolve(root, 'tsconfig.node.json') },
    encoding: 'utf8',
    timeout: 60_000
  })
  return { status: res.status, out: res.stdout, err: res.stderr, ms: Date.now() - started }
}

describe('wasm threads in Node', () => {
  it('runs multi-threaded, matches the single-threaded build, adds no global handlers and exits', () => {
    const multi = runScript(8)
    const single = runScript(1)
    expect(multi.err, 'stderr of the threaded run').not.toMatch(/Error/)
    // A hung process would be killed by the 60 s timeout (status null).
    expect(multi.status, multi.err).toBe(0)
    expect(single.status, single.err).toBe(0)
    const m = JSON.parse(multi.out.trim().split('\n').at(-1)!) as { threads: number; detail: string; handlersAdded: number; sums: number[] }
    const s = JSON.parse(single.out.trim().split('\n').at(-1)!) as typeof m
    const cores = availableParallelism()
    if (cores > 1) {
      expect(m.threads).toBe(Math.min(cores, 8))
      expect(m.detail).toMatch(new RegExp(`${m.threads} threads`))
    } else {
      console.warn('NOTE: this machine has one core, so the threaded wasm build could not be checked for parallelism here')
    }
    expect(s.threads).toBe(1)
    expect(m.handlersAdded).toBe(0)
    expect(s.handlersAdded).toBe(0)
    m.sums.forEach((v, i) => expect(Math.abs(v - s.sums[i]!) / (1 + Math.abs(s.sums[i]!))).toBeLessThan(1e-4))
  }, 150_000)
})
