import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

/**
 * The folder boundaries are lint rules (eslint.config.mjs): each case plants an import or a global
 * that crosses one into a file of that folder and checks that the project's own lint config
 * rejects it, next to a file of the same folder that stays inside and passes.
 */

const root = join(__dirname, '..', '..')
const eslint = new ESLint({ cwd: root })

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) })
  return result!.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`)
}

const violations: { what: string; file: string; code: string; rule: string }[] = [
  { what: 'shared imports Node', file: 'src/shared/planted.ts', code: "import { readFileSync } from 'node:fs'\nexport const f = readFileSync\n", rule: 'boundaries/dependencies' },
  { what: 'shared imports a bare Node module', file: 'src/shared/planted.ts', code: "import { join } from 'path'\nexport const f = join\n", rule: 'boundaries/dependencies' },
  { what: 'shared imports main', file: 'src/shared/planted.ts', code: "import { writeJsonAtomic } from '../main/util/fs'\nexport const f = writeJsonAtomic\n", rule: 'boundaries/dependencies' },
  { what: 'shared imports the renderer', file: 'src/shared/planted.ts', code: "import { formatDuration } from '../renderer/src/lib/format'\nexport const f = formatDuration\n", rule: 'boundaries/dependencies' },
  { what: 'shared uses a DOM global', file: 'src/shared/planted.ts', code: 'export const f = (): string => document.title\n', rule: 'no-restricted-globals' },
  { what: 'shared uses a Node global', file: 'src/shared/planted.ts', code: 'export const f = (): string | undefined => process.env.HOME\n', rule: 'no-restricted-globals' },
  { what: 'trainer imports electron', file: 'src/main/trainer/planted.ts', code: "import { app } from 'electron'\nexport const f = app\n", rule: 'boundaries/dependencies' },
  { what: "trainer imports main's services", file: 'src/main/trainer/run/planted.ts', code: "import { RunsService } from '../../services/runs'\nexport const f = RunsService\n", rule: 'boundaries/dependencies' },
  { what: "trainer imports main's handlers", file: 'src/main/trainer/planted.ts', code: "import { handlers } from '../handlers'\nexport const f = handlers\n", rule: 'boundaries/dependencies' },
  { what: 'renderer imports main', file: 'src/renderer/src/lib/planted.ts', code: "import { RunsService } from '../../../main/services/runs'\nexport const f = RunsService\n", rule: 'boundaries/dependencies' },
  { what: 'renderer imports Node', file: 'src/renderer/src/lib/planted.ts', code: "import { readFileSync } from 'node:fs'\nexport const f = readFileSync\n", rule: 'boundaries/dependencies' },
  { what: 'renderer imports the preload', file: 'src/renderer/src/lib/planted.ts', code: "import * as preload from '../../../preload/index'\nexport const f = preload\n", rule: 'boundaries/dependencies' },
  {
    what: 'a renderer component imports main',
    file: 'src/renderer/src/components/PlantedPanel.vue',
    code: "<script setup lang=\"ts\">\nimport { RunsService } from '../../../main/services/runs'\nconst f = RunsService\n</script>\n<template><div>{{ f }}</div></template>\n",
    rule: 'boundaries/dependencies'
  },
  { what: 'raw ipcMain outside the bridge', file: 'src/main/services/planted.ts', code: "import { ipcMain } from 'electron'\nexport const f = ipcMain\n", rule: 'no-restricted-imports' },
  { what: 'main imports the renderer', file: 'src/main/services/planted.ts', code: "import { formatDuration } from '../../renderer/src/lib/format'\nexport const f = formatDuration\n", rule: 'boundaries/dependencies' }
]

const allowed: { what: string; file: string; code: string }[] = [
  { what: 'shared imports shared and zod', file: 'src/shared/planted.ts', code: "import { z } from 'zod'\nimport { RunConfigSchema } from './config'\nexport const f = [z, RunConfigSchema]\n" },
  {
    what: 'trainer imports Node, npm packages, shared and main/util',
    file: 'src/main/trainer/run/planted.ts',
    code: "import { join } from 'node:path'\nimport { z } from 'zod'\nimport { RunConfigSchema } from '@shared/config'\nimport { writeJsonAtomic } from '../../util/fs'\nexport const f = [join, z, RunConfigSchema, writeJsonAtomic]\n"
  },
  {
    what: 'renderer imports shared, its own files and vue',
    file: 'src/renderer/src/lib/planted.ts',
    code: "import { ref } from 'vue'\nimport { RunConfigSchema } from '@shared/config'\nimport { formatDuration } from './format'\nexport const f = [ref, RunConfigSchema, formatDuration]\n"
  },
  { what: 'the bridge uses ipcMain', file: 'src/main/bridge/planted.ts', code: "import { ipcMain } from 'electron'\nexport const f = ipcMain\n" }
]

describe('folder boundaries (eslint.config.mjs)', () => {
  it.each(violations)('rejects: $what', async ({ file, code, rule }) => {
    const found = await problems(file, code)
    expect(found.filter((p) => p.startsWith(`${rule}:`))).toHaveLength(1)
  })

  it.each(allowed)('accepts: $what', async ({ file, code }) => {
    expect(await problems(file, code)).toEqual([])
  })

  it('fails the lint command on a planted violation', () => {
    const run = spawnSync(
      process.execPath,
      [join(root, 'node_modules/eslint/bin/eslint.js'), '--max-warnings', '0', '--stdin', '--stdin-filename', 'src/main/trainer/planted.ts'],
      { cwd: root, input: "import { BrowserWindow } from 'electron'\nexport const f = BrowserWindow\n", encoding: 'utf8' }
    )
    expect(run.status).toBe(1)
    expect(run.stdout).toContain('boundaries/dependencies')
  })
})
