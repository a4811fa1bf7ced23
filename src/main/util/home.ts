import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The studio home: `$GAN_STUDIO_HOME`, else `~/GAN Studio`. Runs and datasets live under it. */
export function studioHome(): string {
  const fromEnv = process.env.GAN_STUDIO_HOME
  return fromEnv ? resolve(fromEnv) : join(homedir(), 'GAN Studio')
}
export const runsDir = (home = studioHome()): string => join(home, 'runs')
export const datasetsDir = (home = studioHome()): string => join(home, 'datasets')
export const cacheDir = (home = studioHome()): string => join(home, 'cache')
