import { availableParallelism } from 'node:os'

/**
 * Image decoding (sharp) runs on libuv's thread pool, 4 threads by default, and libjpeg decodes one
 * image on one thread, so the pool's size caps how many cores an import can use. The size is read
 * once, at the pool's first use: processes set it before any asynchronous I/O (`threadpoolEnv`)
 * and pass it to their children; the importer sizes its work by it (`decodeThreads`).
 */
export function threadpoolEnv(): { UV_THREADPOOL_SIZE: string } {
  return { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(4, availableParallelism())) }
}

/** Threads that run sharp pipelines in this process: `UV_THREADPOOL_SIZE`, or libuv's default 4. */
export function decodeThreads(): number {
  const fromEnv = Number(process.env.UV_THREADPOOL_SIZE)
  return Number.isInteger(fromEnv) && fromEnv > 0 ? Math.min(fromEnv, 1024) : 4
}
