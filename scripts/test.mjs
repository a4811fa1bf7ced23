// `npm test`: typecheck (node + renderer), the WebAssembly kernels current with their source, lint, build, unit + integration tests, then the
// browser end-to-end tests against `gan-studio serve`. Stops at the first failing stage and ends
// with one plain summary line ("N passed, N failed").
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')
const resultsDir = join(root, 'test-results')
mkdirSync(resultsDir, { recursive: true })
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
const totals = { passed: 0, failed: 0, skipped: 0 }

function stage(name, cmd, args) {
  const started = Date.now()
  process.stdout.write(`\n── ${name} ──\n`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : '1' } })
  const secs = ((Date.now() - started) / 1000).toFixed(0)
  process.stdout.write(`── ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} (${secs}s)\n`)
  return r.status === 0
}

function vitest(name, config, jsonName) {
  const out = join(resultsDir, jsonName)
  rmSync(out, { force: true })
  const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]
  if (config) args.push('--config', config)
  const ok = stage(name, npx, args)
  if (existsSync(out)) {
    const report = JSON.parse(readFileSync(out, 'utf8'))
    totals.passed += report.numPassedTests ?? 0
    totals.failed += report.numFailedTests ?? 0
    totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  } else if (!ok) totals.failed += 1
  return ok
}

const only = process.argv.slice(2)
const want = (s) => only.length === 0 || only.includes(s)
let ok = true
if (ok && want('typecheck')) ok = stage('typecheck', 'npm', ['run', '--silent', 'typecheck'])
if (ok && want('wasm')) ok = stage('wasm kernels', 'node', ['scripts/build-wasm.mjs', '--check'])
if (ok && want('lint')) ok = stage('lint', 'npm', ['run', '--silent', 'lint'])
if (ok && (want('build') || want('e2e'))) ok = stage('build', 'npm', ['run', '--silent', 'build'])
if (ok && want('unit')) ok = vitest('unit and integration tests', null, 'vitest.json')
if (ok && want('e2e')) {
  const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p))
  if (!chromium) {
    process.stdout.write('\n── browser end-to-end tests: FAILED — no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)\n')
    totals.failed += 1
    ok = false
  } else {
    process.env.CHROMIUM_PATH = chromium
    ok = vitest('browser end-to-end tests', 'tests/e2e/vitest.config.ts', 'vitest-e2e.json')
  }
}

process.stdout.write(`\n${ok ? 'All stages passed' : 'A stage failed'}.\n`)
process.stdout.write(`tests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`)
process.exit(ok ? 0 : 1)
