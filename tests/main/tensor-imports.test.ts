import { describe, expect, it } from 'vitest'
import { importGraph, packageName, repoRoot, runtimeSpecifiers } from '../helpers/import-graph'

/**
 * TensorFlow.js loads only in trainer children (and the CLI's own process): the Electron main
 * process and `gan-studio serve` send tensor work to a child. Walks the runtime import graph
 * (static and lazy imports, not type-only ones) from each entry.
 */

function tensorflowChains(entry: string): string[] {
  const { packages } = importGraph(entry)
  return [...packages.entries()].filter(([spec]) => packageName(spec).startsWith('@tensorflow/')).map(([, chain]) => chain.join(' → '))
}

describe('where TensorFlow.js can load', () => {
  it('is reachable from neither the Electron main entry nor serve', () => {
    expect(tensorflowChains('src/main/index.ts')).toEqual([])
    expect(tensorflowChains('src/main/serve/index.ts')).toEqual([])
    expect(tensorflowChains('src/main/cli/commands/serve.ts')).toEqual([])
  })

  it('is reachable from the trainer child, through lazy imports too (the walk sees them)', () => {
    const chains = tensorflowChains('src/main/trainer/process.ts')
    expect(chains.length).toBeGreaterThan(0)
    expect(chains.join('\n')).toMatch(/src\/main\/trainer\/train\.ts/)
    // The tensor jobs (generate, walk, export) run there.
    expect(importGraph('src/main/trainer/process.ts').files).toContain('src/main/generate/generator.ts')
    // So do the explore tools' renders (images, variations, a collection's export).
    expect(importGraph('src/main/trainer/process.ts').files).toContain('src/main/generate/explore/variations.ts')
    expect(importGraph('src/main/trainer/process.ts').files).toContain('src/main/generate/explore/collection-export.ts')
  })

  it('counts value imports and import(), not type-only ones', () => {
    const text = [
      "import type * as tf from '@tensorflow/a'",
      "import { type T } from '@tensorflow/b'",
      "export type { U } from '@tensorflow/c'",
      "import * as tf2 from '@tensorflow/d'",
      "export { V } from '@tensorflow/e'",
      "const lazy = () => import('@tensorflow/f')",
      "import { type W, X } from '@tensorflow/g'"
    ].join('\n')
    expect(runtimeSpecifiers('x.ts', text)).toEqual(['@tensorflow/d', '@tensorflow/e', '@tensorflow/f', '@tensorflow/g'])
  })
})

describe('the lint rule', () => {
  it('refuses a value or lazy import of @tensorflow in main or serve, allows it in the trainer and type-only', async () => {
    const { ESLint } = await import('eslint')
    const eslint = new ESLint({ cwd: repoRoot })
    const code = [
      "import * as tf from '@tensorflow/tfjs'",
      "import type { Tensor } from '@tensorflow/tfjs'",
      'export const sum = (t: Tensor): number => tf.sum(t).dataSync()[0]!',
      "export const wasm = (): Promise<unknown> => import('@tensorflow/tfjs-backend-wasm')",
      ''
    ].join('\n')
    const messages = async (file: string): Promise<string[]> => {
      const [result] = await eslint.lintText(code, { filePath: `${repoRoot}/${file}` })
      return result!.messages.map((m) => `${m.line}:${m.ruleId}`)
    }
    const refused = ['1:@typescript-eslint/no-restricted-imports', '4:no-restricted-syntax']
    expect(await messages('src/main/handlers/planted.ts')).toEqual(refused)
    expect(await messages('src/main/serve/planted.ts')).toEqual(refused)
    expect(await messages('src/main/bridge/planted.ts')).toEqual(refused)
    expect(await messages('src/main/trainer/planted.ts')).toEqual([])
  }, 120_000)
})
