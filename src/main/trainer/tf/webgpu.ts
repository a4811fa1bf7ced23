import { existsSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'

/**
 * WebGPU in Node / the utility process: Dawn from the `webgpu` npm package, installed as
 * `globalThis.navigator.gpu`, under the tfjs `webgpu` backend.
 *
 * Adapters are tried in order: the platform's native GPU API (Vulkan on Linux, Metal on macOS,
 * D3D12 on Windows) — which on a GPU-less Linux box with lavapipe installed is a software Vulkan
 * device — then, on Linux, Mesa's OpenGL ES through EGL (surfaceless, so no display is needed) as a
 * WebGPU "compatibility" adapter, which runs on llvmpipe where there is no GPU.
 */

export interface WebgpuAdapterReport {
  /** Which Dawn path produced the adapter. */
  path: 'native' | 'opengles'
  /** Human-readable adapter name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) — OpenGL ES 3.2 Mesa 22.3.6". */
  name: string
  /** True for a CPU rasteriser (llvmpipe, lavapipe, SwiftShader, WARP): works, but slowly. */
  software: boolean
}

export class WebgpuUnavailableError extends Error {
  override name = 'WebgpuUnavailableError'
}

interface DawnModule {
  create(flags: string[]): GPU
  globals: Record<string, unknown>
}

type Attempt = { path: WebgpuAdapterReport['path']; flags: string[]; options: GPURequestAdapterOptions }

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|warp|microsoft basic render|software/i

let active: { gpu: GPU; adapter: GPUAdapter; report: WebgpuAdapterReport } | null = null
let registered = false

/** e.g. "llvmpipe-llvm-15-0-6-256-bits (OpenGL ES 3.2 Mesa 22.3.6)" or "NVIDIA GeForce RTX 4090 (Vulkan …)". */
function adapterName(adapter: GPUAdapter): string {
  const info = adapter.info as Partial<GPUAdapterInfo> | undefined
  const parts = [info?.vendor, info?.architecture, info?.device].filter((p): p is string => !!p && p.trim() !== '')
  const head = parts.join(' ').replace(/-+$/, '').trim()
  const desc = (info?.description ?? '').replace(/^OpenGL version /, '').trim()
  if (head && desc) return `${head} (${desc})`
  return head || desc || 'unnamed adapter'
}

/** Linux: is a Vulkan loader there at all? (Dawn otherwise prints a loader warning to stderr.) */
function hasVulkanLoader(): boolean {
  if (process.platform !== 'linux') return true
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
    '/lib/x86_64-linux-gnu',
    '/lib64'
  ]
  return dirs.some((d) => existsSync(`${d}/libvulkan.so.1`))
}

function attempts(): Attempt[] {
  const list: Attempt[] = [{ path: 'native', flags: [], options: { powerPreference: 'high-performance' } }]
  if (process.platform === 'linux') {
    list.push({ path: 'opengles', flags: ['backend=opengles'], options: { featureLevel: 'compatibility' } as GPURequestAdapterOptions })
  }
  return list
}

async function loadDawn(): Promise<DawnModule> {
  try {
    return (await import('webgpu')) as unknown as DawnModule
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err)
    if (/Cannot find (package|module) 'webgpu'/.test(msg ?? '')) throw new WebgpuUnavailableError('the webgpu package is not installed')
    throw new WebgpuUnavailableError(`Dawn (the webgpu package) failed to load: ${msg}`)
  }
}

/**
 * Finds a WebGPU adapter, tries to open a device on it, and installs it as `navigator.gpu`.
 * Throws WebgpuUnavailableError with every path's reason when none works.
 */
export async function findWebgpuAdapter(): Promise<WebgpuAdapterReport> {
  if (active) return active.report
  const dawn = await loadDawn()
  // Headless Mesa: EGL needs no display with the surfaceless platform. Must be set before Dawn
  // initialises EGL; only ever set when the user has not chosen a platform.
  if (process.platform === 'linux' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless'
  const reasons: string[] = []
  for (const attempt of attempts()) {
    if (attempt.path === 'native' && !hasVulkanLoader()) {
      reasons.push('no Vulkan loader (libvulkan.so.1) is installed')
      continue
    }
    try {
      const gpu = dawn.create(attempt.flags)
      const adapter = await gpu.requestAdapter(attempt.options)
      if (!adapter) {
        reasons.push(attempt.path === 'native' ? 'no Vulkan/Metal/D3D12 adapter was found' : 'no OpenGL ES adapter was found (Mesa EGL)')
        continue
      }
      const name = adapterName(adapter)
      const report: WebgpuAdapterReport = { path: attempt.path, name, software: SOFTWARE.test(name) || adapter.isFallbackAdapter === true }
      active = { gpu, adapter, report }
      return report
    } catch (err) {
      reasons.push(`${attempt.path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    }
  }
  throw new WebgpuUnavailableError(`no adapter (${reasons.join('; ')})`)
}

/**
 * Registers the tfjs `webgpu` backend on the adapter found by findWebgpuAdapter. The factory is
 * ours (not the package's own), so the compatibility adapter and its limits are used as found.
 */
export async function registerWebgpuBackend(): Promise<WebgpuAdapterReport> {
  const report = await findWebgpuAdapter()
  if (registered) return report
  const { gpu, adapter } = active!
  Object.assign(globalThis, (await loadDawn()).globals)
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator
  if (nav && !nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true })
  else if (!nav) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true })
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu')
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu')
  tf.registerBackend(
    'webgpu',
    async () => {
      const limits = adapter.limits
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup
        }
      })
      return new WebGPUBackend(device, adapter.info)
    },
    // Lowest priority: tfjs never picks it by itself; initBackend chooses explicitly.
    0
  )
  registered = true
  return report
}

/** The adapter the webgpu backend runs on, once registerWebgpuBackend has succeeded. */
export function webgpuAdapter(): WebgpuAdapterReport | null {
  return active?.report ?? null
}
