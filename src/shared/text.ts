/**
 * Text that came from outside (file and folder names, run names, request paths) made safe to
 * print: C0 and C1 control characters, DEL, and the Unicode line separators and bidirectional
 * overrides are written as escapes (`\x1b`, `\r`, `\u202e`), so a name cannot move the cursor,
 * recolour or rewrite the user's terminal, or forge a log line. Everything else is left as is.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const named = NAMED[c]
    if (named) return named
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/**
 * `printable` for whole lines of output that may span several lines on purpose (usage text):
 * newlines and tabs are kept, every other control character is escaped. Where a name is put into
 * a line, escape it with `printable` too, so that it cannot start a line of its own.
 */
export function terminalSafe(text: string): string {
  return text
    .split('\n')
    .map((line) => line.split('\t').map(printable).join('\t'))
    .join('\n')
}
