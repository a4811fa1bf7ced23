import { dirname } from 'node:path'
import { StudioError } from '@shared/errors'
import { locateBuilt } from '../services/trainer-spawn'
import { startServer } from './server'

export { startServer, type RunningServer, type StartServerOptions } from './server'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * `gan-studio serve [--host 127.0.0.1] [--port N]`: starts the server, prints the URL with its
 * token on one line, and on SIGINT/SIGTERM stops a running job (with a checkpoint) and shuts down.
 * Resolves once it has shut down.
 */
export async function serveCommand(args: { host: string; port: number; home: string }): Promise<void> {
  let rendererDir: string
  try {
    rendererDir = dirname(locateBuilt('renderer/index.html'))
  } catch {
    throw new StudioError('not-found', 'The studio page is not built. Run `npm run build` first.')
  }
  const server = await startServer({ host: args.host, port: args.port, home: args.home, rendererDir })
  if (!LOOPBACK.has(args.host)) {
    process.stderr.write(
      `Warning: serving on ${args.host}: anyone who can reach this machine and has the link can use the studio, and plain HTTP is not encrypted` +
        ` (an SSH tunnel is safer). From another machine, use this machine's address in the link below.\n`
    )
  }
  process.stdout.write(`GAN Studio is running (home: ${args.home}). Open: ${server.url}\n`)

  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`Second ${signal}: exiting without waiting for the checkpoint.\n`)
        process.exit(130)
      }
      stopping = true
      const training = server.studio.trainer.active()
      process.stdout.write(training ? 'Stopping: saving a checkpoint of the run in training…\n' : 'Stopping…\n')
      const done = (): void => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        resolve()
      }
      server.close().then(done, (err: unknown) => {
        process.stderr.write(`Error while stopping: ${err instanceof Error ? err.message : String(err)}\n`)
        done()
      })
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
