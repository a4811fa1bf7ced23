import { parseArgs } from 'node:util'
import { serveCommand } from '../../serve'
import { studioHome } from '../../util/home'
import { parseIntFlag, UsageError, type CliIo } from '../io'

export async function run(argv: string[], _io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } }
  })
  if (positionals.length) throw new UsageError('Usage: gan-studio serve [--host 127.0.0.1] [--port N]')
  const port = parseIntFlag('port', values.port, 0, 65535) ?? 0
  await serveCommand({ host: values.host!, port, home: studioHome() })
  return 0
}
