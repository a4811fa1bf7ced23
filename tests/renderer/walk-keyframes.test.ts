import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { RequestParams } from '@shared/contract'
import { setBridge } from '../../src/renderer/src/bridge'
import { parseKeyframeText, useGenerateStore } from '../../src/renderer/src/stores/generate'
import { createMockBridge, type MockBridge } from './helpers/mockBridge'

let mock: MockBridge
beforeEach(() => {
  mock = createMockBridge({
    'generate.checkpoints': () => [{ name: 'step-000500', step: 500 }],
    'generate.favorites': () => ({ seeds: [] }),
    'generate.walk': () => ({ file: 'exports/walks/w.gif', frames: 10 })
  })
  setBridge(mock.bridge)
  setActivePinia(createPinia())
})

describe('keyframed walks in the Generate store', () => {
  it('reads SEED@SECONDS~EASING and says what is wrong', () => {
    expect(parseKeyframeText('3@2, 17~linear, 42')).toEqual({ keys: [{ seed: 3, seconds: 2 }, { seed: 17, easing: 'linear' }, { seed: 42 }], error: null })
    expect(parseKeyframeText('3@2').error).toMatch(/at least two/)
    expect(parseKeyframeText('3@0, 4').error).toMatch(/more than 0/)
    expect(parseKeyframeText('3~wobble, 4').error).toMatch(/easing is one of/)
    expect(parseKeyframeText('3@x, 4').error).toMatch(/is not a keyframe/)
  })

  it('sends timed keyframes and the easing; the frame count follows the keyframes’ time', async () => {
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    gen.walkSeedsText = '3@2, 17~linear, 42'
    gen.walkFps = 10
    gen.walkEasing = 'ease-in'
    expect(gen.walkTotalSeconds).toBe(6)
    expect(gen.walkFrames).toBe(60)
    expect(await gen.makeWalk()).toBe(true)
    const p = mock.calls['generate.walk'].mock.lastCall![0] as RequestParams<'generate.walk'>
    expect(p).toMatchObject({ id: 'run-a', keyframes: [{ seed: 3, seconds: 2 }, { seed: 17, easing: 'linear' }, { seed: 42 }], easing: 'ease-in', fps: 10 })
    expect(p.seeds).toBeUndefined()
    expect(p.seconds).toBeUndefined()
  })

  it('walks through a collection’s seeds and latents; plain seeds still go as seeds', async () => {
    const gen = useGenerateStore()
    await gen.selectRun('run-a')
    gen.walkCollection = { name: 'Path', keys: [{ seed: 4 }, { latent: [0.1, 0.2] }] }
    expect(await gen.makeWalk()).toBe(true)
    expect(mock.calls['generate.walk'].mock.lastCall![0]).toMatchObject({ keyframes: [{ seed: 4 }, { latent: [0.1, 0.2] }], seconds: 4 })
    gen.walkCollection = null
    gen.walkSeedsText = '1, 2, 3'
    expect(await gen.makeWalk()).toBe(true)
    expect(mock.calls['generate.walk'].mock.lastCall![0]).toMatchObject({ seeds: [1, 2, 3], seconds: 4, easing: 'ease-in-out' })
  })
})
