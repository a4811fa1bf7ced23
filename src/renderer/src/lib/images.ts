/** Sources that are already URLs (data:, blob:, studio:, http…) pass through; studio-home paths are resolved. */
export function imageSrc(value: string, fileUrl: (pathInHome: string) => string): string {
  return /^(data:|blob:|[a-z][a-z0-9+.-]*:\/\/)/i.test(value) ? value : fileUrl(value)
}

/** A file inside a run folder (sample grid, thumbnail) as a path inside the studio home. */
export function runFilePath(runId: string, fileInRun: string): string {
  return `runs/${runId}/${fileInRun.replace(/^[\\/]+/, '')}`
}
