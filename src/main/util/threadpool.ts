import { availableParallelism } from 'node:os'

/**
 * Image decoding (sharp) runs on libuv's thread pool, 4 threads by default. The pool's size is read
 * once, at its first use, so processes set this before any asynchronous I/O, and pass it to their
 * children.
 */
export function threadpoolEnv(): { UV_THREADPOOL_SIZE: string } {
  return { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(4, availableParallelism())) }
}
