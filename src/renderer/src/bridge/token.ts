import { TOKEN_PARAM } from '@shared/wire'

/** Where the access token is kept so that a reload (or a link without `?token=`) still works. */
export const TOKEN_STORAGE_KEY = 'gan-studio.token'

/**
 * The access token for `gan-studio serve`: from the page URL's `?token=` when present (and then
 * remembered for this tab), else the one remembered earlier in this tab.
 */
export function resolveToken(search: string, storage: Pick<Storage, 'getItem' | 'setItem'> | null): string | null {
  const fromUrl = new URLSearchParams(search).get(TOKEN_PARAM)
  if (fromUrl) {
    try {
      storage?.setItem(TOKEN_STORAGE_KEY, fromUrl)
    } catch {
      // Storage can be unavailable (private mode, quota); the URL still carries the token.
    }
    return fromUrl
  }
  try {
    return storage?.getItem(TOKEN_STORAGE_KEY) ?? null
  } catch {
    return null
  }
}
