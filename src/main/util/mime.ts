import { extname } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream'
}

export function contentTypeFor(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream'
}

/** Raster images can be shown as-is; anything else from the studio home is served sandboxed. */
export function isRasterImage(path: string): boolean {
  return /^image\/(png|jpeg|gif|webp|avif|x-icon)$/.test(contentTypeFor(path))
}

/**
 * Headers for a file from the studio home (desktop protocol and serve's /files): never sniffed,
 * and anything that is not a plain raster image is sandboxed so it cannot run script in the
 * studio's origin (an exported HTML page, an SVG).
 */
export function studioFileHeaders(path: string, size?: number): Record<string, string> {
  return {
    'Content-Type': contentTypeFor(path),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...(isRasterImage(path) ? {} : { 'Content-Security-Policy': "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'" }),
    ...(size !== undefined ? { 'Content-Length': String(size) } : {})
  }
}
