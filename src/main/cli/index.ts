import { APP_VERSION } from '../util/version'
import { processIo, runCommand, type CliIo } from './io'

/**
 * `gan-studio` — the headless studio: train, resume, generate, inspect runs, serve the studio to a
 * browser. Bad input prints one clear line and exits with code 2; failures exit 1.
 */

type Command = { summary: string; load: () => Promise<{ run: (argv: string[], io: CliIo) => Promise<number> }> }

const COMMANDS: Record<string, Command> = {
  train: { summary: 'train a GAN on an image folder', load: () => import('./commands/train') },
  resume: { summary: 'continue a run from its newest good checkpoint', load: () => import('./commands/resume') },
  generate: { summary: 'make images from a run (EMA generator)', load: () => import('./commands/generate') },
  walk: { summary: 'export a looping latent walk (GIF, WebP or PNG frames)', load: () => import('./commands/walk') },
  explore: { summary: 'timelapse, collections, variations, directions, find my image: explore what a run learned', load: () => import('./commands/explore') },
  'export-model': { summary: 'export the generator as a tfjs model + offline HTML page', load: () => import('./commands/export-model') },
  compare: { summary: 'compare runs: summary table and the settings that differ', load: () => import('./commands/compare') },
  runs: { summary: 'list runs', load: () => import('./commands/runs') },
  quality: { summary: 'score a folder of images against a dataset (SWD, KID, variety, memorisation)', load: () => import('./commands/quality') },
  serve: { summary: 'serve the studio to a browser', load: () => import('./commands/serve') },
  demo: { summary: 'train on the built-in demo images', load: () => import('./commands/demo') }
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length))
  return [
    `gan-studio ${APP_VERSION} — train GANs on your own images`,
    '',
    'Usage: gan-studio <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Runs and datasets live in $GAN_STUDIO_HOME (default: ~/GAN Studio).'
  ].join('\n')
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage())
    return name ? 0 : 2
  }
  if (name === '--version' || name === '-v') {
    io.out(APP_VERSION)
    return 0
  }
  const command = COMMANDS[name]
  if (!command) {
    io.err(`gan-studio: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}`)
    return 2
  }
  return runCommand(name, io, async () => (await command.load()).run(rest, io))
}
