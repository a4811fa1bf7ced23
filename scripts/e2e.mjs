#!/usr/bin/env node
// End-to-end tests: builds the app (unless --no-build), then runs tests/e2e in Chromium through
// the real `gan-studio serve` and trainer, plus the Electron smoke test where an Electron binary
// exists. Screenshots land in test-results/screenshots/.
//
//   node scripts/e2e.mjs [--no-build] [vitest filters…]
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const noBuild = args.includes('--no-build')
const rest = args.filter((a) => a !== '--no-build')
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p))
if (!chromium) {
  console.error('e2e: no Chromium found. Install it (`apt-get install -y chromium`) or set CHROMIUM_PATH.')
  process.exit(1)
}

if (!noBuild) {
  console.log('e2e: building (npm run build)…')
  const build = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status ?? 1)
}
for (const f of ['out/main/cli.js', 'out/renderer/index.html']) {
  if (!existsSync(join(root, f))) {
    console.error(`e2e: ${f} is missing; run \`npm run build\` first.`)
    process.exit(1)
  }
}

const run = spawnSync(npx, ['vitest', 'run', '--config', 'tests/e2e/vitest.config.ts', ...rest], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromium }
})
process.exit(run.status ?? 1)
