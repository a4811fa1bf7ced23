// What the packaged app loads from node_modules at run time (see electron-builder.cjs).
const { existsSync, readFileSync } = require('node:fs')
const { dirname, join, relative } = require('node:path')

/** The app's own run-time packages: package.json's dependencies and optional dependencies. */
function runtimePackages(root = join(__dirname, '..')) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  return Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })
}

/** `names` and the names of everything they depend on, as Node resolves them from the project. */
function runtimeClosure(names, root = join(__dirname, '..')) {
  const seen = new Set()
  const found = new Set()
  const find = (name, from) => {
    for (let dir = from; ; dir = dirname(dir)) {
      const file = join(dir, 'node_modules', name, 'package.json')
      if (existsSync(file)) return dirname(file)
      if (dir === root || dirname(dir) === dir) return null
    }
  }
  const visit = (name, from) => {
    const dir = find(name, from)
    if (!dir) return // an optional dependency that is not installed on this machine
    const key = relative(root, dir).split('\\').join('/')
    if (seen.has(key)) return
    seen.add(key)
    found.add(name)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, dir)
  }
  for (const name of names) visit(name, root)
  return [...found].sort()
}

module.exports = { runtimePackages, runtimeClosure }
