#!/usr/bin/env node
// The `gan-studio` command: runs the built CLI (npm run build writes out/main/cli.js).
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'main', 'cli.js')
if (!existsSync(cli)) {
  process.stderr.write('gan-studio is not built yet: run `npm run build` first.\n')
  process.exit(2)
}
// Image decoding runs on libuv's thread pool (4 threads by default): give it every core. This must
// happen before the first asynchronous I/O.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()))
const { main } = await import(pathToFileURL(cli).href)
// Exit when the command is done: wasm worker threads and a GPU device would otherwise keep the
// process alive. (stdout and stderr are synchronous for files and pipes, so nothing is lost.)
process.exit(await main(process.argv.slice(2)))
