import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as constants from '../../../src/main/jpeg/constants'
import { DESCRIPTOR_FIELDS } from '../../../src/main/jpeg/jpeg-eighth'
import { SCAN_FAILURES } from '../../../src/main/jpeg/jpeg-kernels'

/** The constants shared by the TypeScript side and the AssemblyScript kernels come from one definition. */

const root = join(import.meta.dirname, '..', '..', '..')
const definition = JSON.parse(readFileSync(join(root, 'src/main/jpeg/constants.json'), 'utf8')) as {
  constants: { name: string; value: number; as: string }[]
}

describe('JPEG constants', () => {
  it('both generated files are current with constants.json', () => {
    const result = spawnSync(process.execPath, [join(root, 'scripts/jpeg-constants.mjs'), '--check'], { encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })

  it('the TypeScript module and the AssemblyScript one hold the same values as the definition', () => {
    const assembly = readFileSync(join(root, 'src/main/jpeg/wasm/constants.ts'), 'utf8')
    expect(Object.keys(constants).sort()).toEqual(definition.constants.map((c) => c.name).sort())
    for (const c of definition.constants) {
      expect((constants as Record<string, number>)[c.name], c.name).toBe(c.value)
      expect(assembly).toContain(`export const ${c.name}: ${c.as} = ${c.value}\n`)
    }
  })

  it('the kernel source takes them from the generated module, and the TypeScript side uses the same layout', () => {
    const source = readFileSync(join(root, 'src/main/jpeg/wasm/jpeg.ts'), 'utf8')
    expect(source).toMatch(/import \{[^}]*\bWINDOW\b[^}]*\} from '\.\/constants'/)
    expect(source).not.toMatch(/^const (WINDOW|DESCRIPTOR|OK|BAD_CODE|OVERRUN|TRUNCATED|BAD_RESTART)\b/m)
    expect(DESCRIPTOR_FIELDS * 4).toBe(constants.DESCRIPTOR)
    const failures = definition.constants.filter((c) => c.name.startsWith('SCAN_') && c.name !== 'SCAN_OK').map((c) => c.value)
    expect(Object.keys(SCAN_FAILURES).map(Number).sort()).toEqual(failures.sort())
  })
})
