import { describe, expect, it } from 'vitest'
import { categorize, kernelMacs, macsPerCycle } from '../../../tools/bench/profile'
import { parseCpuMhz } from '../../../tools/bench/load'

describe('profile accounting', () => {
  it('counts multiply-adds of convolutions from their shapes', () => {
    // 3×3 conv, 16 → 32 channels, on 2 images of 8×8 ('same'): every output meets 3·3·16 weights.
    expect(kernelMacs('FusedConv2D', [[2, 8, 8, 16], [3, 3, 16, 32], [32]], [[2, 8, 8, 32]])).toBe(2 * 8 * 8 * 32 * 3 * 3 * 16)
    expect(kernelMacs('Conv2D', [[2, 8, 8, 16], [3, 3, 16, 32]], [[2, 4, 4, 32]])).toBe(2 * 4 * 4 * 32 * 3 * 3 * 16)
    // Input gradient (also a transposed conv): dy [2, 4, 4, 32] against a [4, 4, 16, 32] filter.
    expect(kernelMacs('Conv2DBackpropInput', [[2, 4, 4, 32], [4, 4, 16, 32]], [[2, 8, 8, 16]])).toBe(2 * 4 * 4 * 32 * 4 * 4 * 16)
    // Filter gradient: x, dy → filter [4, 4, 16, 32].
    expect(kernelMacs('Conv2DBackpropFilter', [[2, 8, 8, 16], [2, 4, 4, 32]], [[4, 4, 16, 32]])).toBe(2 * 4 * 4 * 32 * 4 * 4 * 16)
    // [5, 7] × [7, 3] (and with the first operand transposed: [7, 5]ᵀ × [7, 3]).
    expect(kernelMacs('BatchMatMul', [[1, 5, 7], [1, 7, 3]], [[1, 5, 3]])).toBe(105)
    expect(kernelMacs('MatMul', [[7, 5], [7, 3]], [[5, 3]])).toBe(105)
    expect(kernelMacs('Add', [[2, 3], [2, 3]], [[2, 3]])).toBe(0)
  })

  it('sorts V8 profile frames into where the time goes', () => {
    expect(categorize('(garbage collector)', '')).toBe('garbage collection')
    expect(categorize('wasm-function[414]', 'wasm://wasm/0019ea4a')).toMatch(/^WebAssembly/)
    expect(categorize('runKernel', 'file:///x/node_modules/@tensorflow/tfjs-core/dist/engine.js')).toMatch(/^tfjs JavaScript/)
    expect(categorize('adamRange', new URL('../../../src/main/trainer/model/params.ts', import.meta.url).href)).toMatch(/Adam, EMA/)
    expect(categorize('fill', new URL('../../../src/main/trainer/train.ts', import.meta.url).href)).toMatch(/batch assembly/)
    expect(categorize('x', new URL('../../../src/main/trainer/model/gan.ts', import.meta.url).href)).toBe('JS model/gan.ts')
    expect(categorize('emit', 'node:events')).toBe('Node.js internals and native addons (the native CPU kernels)')
  })

  it('holds the convolutions against AVX2/FMA peak when the native kernels ran them, else WASM SIMD', () => {
    expect(macsPerCycle('wasm (SIMD, 1 thread) + native kernels (AVX2/FMA), one thread').macs).toBe(16)
    expect(macsPerCycle('wasm (SIMD, 1 thread), native kernels off: GAN_STUDIO_NATIVE=0').macs).toBe(4)
    expect(macsPerCycle('wasm (SIMD, 2 threads)').macs).toBe(4)
  })

  it('reads the clock from /proc/cpuinfo', () => {
    expect(parseCpuMhz('processor\t: 0\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2596.144\ncache size\t: 512 KB\n')).toBeCloseTo(2596.144, 6)
    expect(parseCpuMhz('processor\t: 0\n')).toBeNull()
  })
})
