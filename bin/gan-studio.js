#!/usr/bin/env node
// The `gan-studio` command: runs the built CLI (npm run build writes out/main/cli.js).
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'main', 'cli.js')
if (!existsSync(cli)) {
  process.stderr.write('gan-studio is not built yet: run `npm run build` first.\n')
  process.exit(2)
}
const { main } = await import(pathToFileURL(cli).href)
process.exitCode = await main(process.argv.slice(2))
