import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunJson } from '@shared/runs'
import { readMetrics } from '../../../src/main/trainer/run/runs'
import { makeImageFolder } from '../../helpers/images'

/**
 * The built `gan-studio` command, as a user runs it: train, kill it outright mid-run, resume to the
 * same step count; and Ctrl-C, which checkpoints and exits cleanly. Needs `npm run build` (npm test
 * builds first).
 */
const root = resolve(__dirname, '../../..')
const bin = join(root, 'bin', 'gan-studio.js')

let home: string
let images: string
let configFile: string

function start(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let text = ''
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, GAN_STUDIO_HOME: home, CI: 'true' } })
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { child, output: () => text, exited }
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 240_000): Promise<T> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const v = await fn().catch(() => null)
    if (v) return v
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const readRunJson = async (dir: string): Promise<RunJson> => JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as RunJson

beforeAll(async () => {
  if (!existsSync(join(root, 'out', 'main', 'cli.js'))) throw new Error('out/main/cli.js is missing: run `npm run build` before these tests (npm test does).')
  home = await mkdtemp(join(tmpdir(), 'gs-kill-'))
  images = join(home, 'art')
  await makeImageFolder(images, { count: 16, formats: ['png', 'jpeg', 'webp', 'gif'], withAlpha: 0.5, palette: true, broken: 2 })
  configFile = join(home, 'tiny.json')
  await writeFile(configFile, JSON.stringify({ model: { latentDim: 16, gChannels: 8, dChannels: 8 }, logEvery: 2, gridSize: 16 }))
})

describe('gan-studio train / resume (built CLI)', () => {
  it('survives SIGKILL mid-run and resumes to the same step count', async () => {
    const train = start(['train', images, '--steps', '60', '--batch', '4', '--backend', 'wasm', '--checkpoint-every', '5', '--sample-every', '10', '--config', configFile])
    const runDir = await waitFor('the run folder', async () => /Run folder: (.+)/.exec(train.output())?.[1]?.trim())
    await waitFor('a checkpoint past step 10', async () => (await readRunJson(runDir)).latestCheckpointStep >= 10)
    train.child.kill('SIGKILL')
    await train.exited
    const killed = await readRunJson(runDir)
    expect(killed.status).toBe('running') // what a crash leaves behind; the studio shows it as resumable
    expect(killed.step).toBeLessThan(60)
    expect(train.output()).toMatch(/skipped/) // the two broken files were reported

    const resume = start(['resume', runDir])
    expect(await resume.exited).toBe(0)
    expect(resume.output()).toMatch(new RegExp(`Resumed from checkpoint step-0000(\\d\\d)`))
    expect(resume.output()).toContain(`Run folder: ${runDir}`)
    const done = await readRunJson(runDir)
    expect(done.status).toBe('completed')
    expect(done.step).toBe(60)
    const steps = (await readMetrics(runDir)).map((m) => m.step)
    // Logged every 2 steps, plus at each checkpoint (losses are read before a checkpoint is written);
    // the lines the killed process wrote past its last checkpoint were dropped on resume.
    const expected = Array.from({ length: 60 }, (_, i) => i + 1).filter((s) => s % 2 === 0 || s % 5 === 0)
    expect(steps).toEqual(expected)
  }, 600_000)

  it('Ctrl-C writes a checkpoint and exits cleanly', async () => {
    const train = start(['train', images, '--steps', '500', '--batch', '4', '--backend', 'wasm', '--checkpoint-every', '100', '--config', configFile])
    const runDir = await waitFor('the run folder', async () => /Run folder: (.+)/.exec(train.output())?.[1]?.trim())
    await waitFor('training to start', async () => /step \d+\/500/.test(train.output()) || (await readMetrics(runDir)).length > 0)
    train.child.kill('SIGINT')
    expect(await train.exited).toBe(0)
    const run = await readRunJson(runDir)
    expect(run.status).toBe('stopped')
    expect(run.step).toBeGreaterThan(0)
    expect(run.latestCheckpointStep).toBe(run.step)
    expect(train.output()).toMatch(/Stopped at step \d+/)
  }, 600_000)
})
