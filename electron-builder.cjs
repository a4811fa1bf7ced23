// Packaging for people who install apps rather than repositories: `npm run dist` builds the app
// (electron-vite) and then installers with electron-builder: AppImage and deb on Linux, dmg on
// macOS, an NSIS installer on Windows (each must be built on its own platform; see the README).
//
// The trainer runs outside the archive: Electron utility processes, worker threads, WebAssembly
// pthreads and native addons (sharp, Dawn) need real files, and code in a real file finds its
// packages only in real folders. So the built main folder and every run-time package (with its
// dependencies) are unpacked next to app.asar, which keeps the renderer and the preload. The list
// is computed from package.json and node_modules (scripts/runtime-deps.cjs), so a new dependency is
// unpacked too; tests/tooling/packaging.test.ts checks it against the imports in the built bundles.
// The native CPU kernels (native/, built by the install step) ship unpacked when they were built;
// the trainer finds them next to out/ (tf/native.ts) and uses the wasm kernels without them.
const { runtimePackages, runtimeClosure } = require('./scripts/runtime-deps.cjs')

/** @type {import('electron-builder').Configuration} */
const config = {
  appId: 'org.ganstudio.GanStudio',
  productName: 'GAN Studio',
  executableName: 'gan-studio',
  copyright: 'GAN Studio contributors, MIT licence',
  directories: { output: 'dist', buildResources: 'resources' },
  files: ['out/**', 'resources/icon.png', 'native/build/Release/gan_studio_native.node', '!**/*.map'],
  asar: true,
  // By name, wherever electron-builder places a package (it may hoist a nested one).
  asarUnpack: ['out/main/**', 'native/build/Release/*.node', ...runtimeClosure(runtimePackages()).map((name) => `**/node_modules/${name}/**`)],
  // sharp and webgpu ship prebuilt N-API binaries, which load in Electron as they are; so does
  // our own (plain N-API, built against Node's headers).
  npmRebuild: false,
  nodeGypRebuild: false,
  icon: 'resources/icon.png',
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Graphics',
    maintainer: 'GAN Studio contributors',
    synopsis: 'Train GANs on your own image folders'
  },
  deb: { packageCategory: 'graphics' },
  mac: { target: ['dmg'], category: 'public.app-category.graphics-design' },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true }
}

module.exports = config
