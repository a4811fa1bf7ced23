import { readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'

/**
 * The runtime import graph of the project's TypeScript, read with the TypeScript compiler (its
 * parser and its module resolution, with the project's `@shared/*` path). Counted: static imports
 * and re-exports that are not `import type`/`export type`, and `import('…')` with a literal
 * specifier (loaded lazily, but loaded all the same). Imports of packages end the walk there.
 */

const ROOT = resolve(import.meta.dirname, '../..')

function compilerOptions(): ts.CompilerOptions {
  const configFile = join(ROOT, 'tsconfig.node.json')
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    }
  })
  if (!parsed) throw new Error(`cannot read ${configFile}`)
  return parsed.options
}

/** Specifiers a file loads at run time. */
export function runtimeSpecifiers(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)
  const out: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)))
      if (!typeOnly) out.push(node.moduleSpecifier.text)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly))
      if (!typeOnly) out.push(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0]
      if (arg && ts.isStringLiteralLike(arg)) out.push(arg.text)
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      if (!node.isTypeOnly) out.push(node.moduleReference.expression.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

export interface ImportGraph {
  /** Project files reached, relative to the repository root. */
  files: Set<string>
  /** Package (or `node:`) specifiers reached, each with one chain of files that leads to it. */
  packages: Map<string, string[]>
}

/** Everything `entry` (a path relative to the repository root) loads at run time. */
export function importGraph(entry: string): ImportGraph {
  const options = compilerOptions()
  const host = ts.createCompilerHost(options)
  const files = new Set<string>()
  const packages = new Map<string, string[]>()
  const via = new Map<string, string[]>()
  const start = resolve(ROOT, entry)
  const queue = [start]
  via.set(start, [relative(ROOT, start)])
  while (queue.length) {
    const file = queue.shift()!
    const rel = relative(ROOT, file)
    if (files.has(rel)) continue
    files.add(rel)
    const chain = via.get(file)!
    for (const spec of runtimeSpecifiers(file)) {
      const resolved = ts.resolveModuleName(spec, file, options, host).resolvedModule
      const inProject = resolved && !resolved.isExternalLibraryImport && !resolved.resolvedFileName.endsWith('.d.ts')
      if (inProject) {
        const next = resolve(resolved.resolvedFileName)
        if (!via.has(next)) {
          via.set(next, [...chain, relative(ROOT, next)])
          queue.push(next)
        }
      } else if (spec.startsWith('.') || spec.startsWith('@shared/')) {
        if (!resolved) throw new Error(`${rel}: cannot resolve ${spec}`)
      } else if (!packages.has(spec)) {
        packages.set(spec, [...chain, spec])
      }
    }
  }
  return { files, packages }
}

/** The package name of a specifier (`@scope/name/deep` → `@scope/name`). */
export function packageName(spec: string): string {
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

export const repoRoot = ROOT
