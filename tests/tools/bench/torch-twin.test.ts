import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { RunConfigSchema, type ModelArch } from '@shared/config'
import { familyFor } from '../../../src/main/trainer/model/families'
import { defaultPython, torchProblem, torchTwinScript } from '../../../tools/bench/engines'

const python = defaultPython()
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0
if (!hasTorch) console.log(`PyTorch twin shape tests skipped: ${python} cannot import torch (apt-get install -y python3-torch)`)

/** Element counts of every parameter tensor of G and of D, sorted (layouts differ, sizes must not). */
function ours(arch: ModelArch, resolution: number, model: { gChannels: number; dChannels: number; latentDim: number }) {
  const config = RunConfigSchema.parse({ source: '/x', preprocess: { resolution }, model: { arch, ...model } })
  const family = familyFor(arch)
  const spec = family.spec(config)
  const sizes = (params: { shape: number[] }[]) => params.map((p) => p.shape.reduce((a, b) => a * b, 1)).sort((a, b) => a - b)
  return { g: sizes(family.generatorParams(spec)), d: sizes(family.discriminatorParams(spec)) }
}

describe.skipIf(!hasTorch)('PyTorch twins', () => {
  const cases: [ModelArch, number, { gChannels: number; dChannels: number; latentDim: number }][] = [
    ['dcgan', 32, { gChannels: 64, dChannels: 64, latentDim: 128 }],
    ['dcgan', 64, { gChannels: 32, dChannels: 32, latentDim: 64 }],
    ['lite', 32, { gChannels: 64, dChannels: 64, latentDim: 128 }],
    ['lite', 64, { gChannels: 32, dChannels: 32, latentDim: 64 }]
  ]
  it.each(cases)('%s at %i px has the family’s parameter tensors (%o)', (arch, resolution, model) => {
    const args = [torchTwinScript()!, '--shapes', '--arch', arch, '--resolution', String(resolution), '--latent', String(model.latentDim)]
    args.push('--g-channels', String(model.gChannels), '--d-channels', String(model.dChannels))
    const r = spawnSync(python, args, { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const twin = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { g: number[]; d: number[] }
    expect(twin).toEqual(ours(arch, resolution, model))
  })

  it('runs one OpenBLAS thread under each torch thread unless told to keep OpenBLAS’s own pool', () => {
    const env = { ...process.env }
    delete env.OPENBLAS_NUM_THREADS
    const ready = (blasThreads: string) => {
      const args = [torchTwinScript()!, '--once', '0.01', '--warmup', '0', '--batch', '2', '--g-channels', '8', '--d-channels', '8', '--latent', '8']
      const r = spawnSync(python, [...args, '--blas-threads', blasThreads], { encoding: 'utf8', env })
      expect(r.status, r.stderr).toBe(0)
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ready?: { blasThreads: string } })
      return lines.find((l) => l.ready)!.ready!.blasThreads
    }
    expect(ready('1')).toBe('1')
    expect(ready('0')).toBe('default')
  })
})

describe('PyTorch availability', () => {
  it('says what is missing instead of failing later', async () => {
    expect(await torchProblem('/nonexistent/python3')).toMatch(/^\/nonexistent\/python3 cannot be started .*pass --python$/)
    // Node is no Python: "import torch" fails there as it does in a Python without torch.
    expect(await torchProblem(process.execPath)).toMatch(/cannot import torch .*apt-get install -y python3-torch libopenblas0-pthread$/)
    if (hasTorch) expect(await torchProblem(python)).toBeNull()
  })
})
