/**
 * The Electron main process: one window, the `studio://` protocol, the IPC bridge, and the studio's
 * services (dataset library, run library, trainer host running jobs in utility processes).
 */
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { app, BrowserWindow, dialog, nativeTheme, session, shell } from 'electron'
import { createDispatcher } from './bridge/dispatch'
import { ipcEventSink, registerIpcBridge } from './bridge/ipc'
import { handlers } from './handlers'
import { handleStudioProtocol, registerStudioScheme } from './studio-scheme'
import { Studio, type DesktopShell } from './services/studio'
import { locateBuilt } from './services/trainer-spawn'
import { electronTrainerSpawner } from './services/trainer-spawn-electron'
import { studioHome } from './util/home'
import { threadpoolEnv } from './util/threadpool'

// Before any asynchronous I/O: dataset imports decode on libuv's thread pool.
Object.assign(process.env, threadpoolEnv())

const mainDir = dirname(fileURLToPath(import.meta.url))
const preloadPath = join(mainDir, '../preload/index.cjs')
/** The window icon (Linux and Windows; macOS takes it from the app bundle). */
const iconPath = join(mainDir, '../../resources/icon.png')
const rendererIndex = join(mainDir, '../renderer/index.html')
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined

/** Only our own renderer may use the bridge or be navigated to. */
function isOwnPage(url: string): boolean {
  if (devServerUrl) return url.startsWith(devServerUrl)
  return url.startsWith(pathToFileURL(rendererIndex).href)
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1320,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'GAN Studio',
    ...(process.platform === 'darwin' ? {} : { icon: iconPath }),
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#0f1115' : '#f4f5f8',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      spellcheck: false
    }
  })
  win.once('ready-to-show', () => win.show())
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  win.webContents.on('will-navigate', (event, url) => {
    if (!isOwnPage(url)) event.preventDefault()
  })
  if (devServerUrl) void win.loadURL(devServerUrl)
  else void win.loadFile(rendererIndex)
  return win
}

function desktopShell(): DesktopShell {
  return {
    async pickFolder() {
      const parent = BrowserWindow.getFocusedWindow()
      const options = { title: 'Choose an image folder', properties: ['openDirectory' as const] }
      const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options)
      return result.canceled ? null : (result.filePaths[0] ?? null)
    },
    async openPath(path) {
      const problem = await shell.openPath(path)
      if (problem) throw new Error(`Could not open ${path}: ${problem}`)
    }
  }
}

/** Quitting while a run trains asks first, then stops it with a checkpoint. */
function guardQuit(studio: Studio): void {
  let mayQuit = false
  let asking = false
  app.on('before-quit', (event) => {
    if (mayQuit) return
    event.preventDefault()
    if (asking) return
    asking = true
    void (async () => {
      try {
        const active = studio.trainer.active()
        if (active) {
          const options = {
            type: 'question' as const,
            buttons: ['Stop training and quit', 'Keep training'],
            defaultId: 1,
            cancelId: 1,
            message: 'A run is still training.',
            detail: 'Quitting stops it after saving a checkpoint. You can resume it later from the Runs page.'
          }
          const parent = BrowserWindow.getAllWindows()[0]
          const { response } = parent ? await dialog.showMessageBox(parent, options) : await dialog.showMessageBox(options)
          if (response !== 0) return
        }
        await studio.shutdown({ timeoutMs: 60_000 })
        mayQuit = true
        app.quit()
      } finally {
        asking = false
      }
    })()
  })
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    // Two studios on one home would both drive the same runs.
    app.quit()
    return
  }
  registerStudioScheme()
  await app.whenReady()

  const home = studioHome()
  const studio = new Studio({
    home,
    mode: 'desktop',
    spawnTrainer: electronTrainerSpawner(locateBuilt('main/trainer-process.js', import.meta.url)),
    shell: desktopShell()
  })
  await studio.prepare()
  studio.events.subscribe(ipcEventSink)
  handleStudioProtocol(home)
  registerIpcBridge(createDispatcher(handlers, studio), { isTrustedSender: isOwnPage })
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  guardQuit(studio)

  let win = createWindow()
  app.on('second-instance', () => {
    if (win.isDestroyed()) win = createWindow()
    if (win.isMinimized()) win.restore()
    win.focus()
  })
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createWindow()
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
}

void main().catch((err: unknown) => {
  dialog.showErrorBox('GAN Studio could not start', err instanceof Error ? err.message : String(err))
  app.exit(1)
})
