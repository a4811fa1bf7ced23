import { StudioError } from '@shared/errors'
import { APP_VERSION } from '../util/version'
import type { DomainRequests, Handlers } from './types'

export const appHandlers = {
  'app.info': async (_params, studio) => ({
    version: APP_VERSION,
    home: studio.home,
    mode: studio.mode,
    platform: process.platform
  }),

  /** The system folder dialog exists only in the desktop app; the browser uses fs.listDir. */
  'dialog.pickFolder': async (_params, studio) => {
    if (!studio.shell) {
      throw new StudioError(
        'bad-input',
        'The system folder dialog is only available in the desktop app. In the browser, choose the folder with the in-app folder picker.'
      )
    }
    return { path: await studio.shell.pickFolder() }
  }
} satisfies Handlers<DomainRequests<'app' | 'dialog'>>
