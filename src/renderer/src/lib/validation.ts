import type { z } from 'zod'
import { formatInt } from './format'

/** Dotted path → one plain-language message, from a zod error (first issue per field wins). */
export function fieldErrors(error: z.ZodError | undefined | null): Record<string, string> {
  const out: Record<string, string> = {}
  if (!error) return out
  for (const issue of error.issues) {
    const key = issue.path.map(String).join('.')
    if (!(key in out)) out[key] = friendlyIssue(issue)
  }
  return out
}

function num(n: unknown): string {
  if (typeof n === 'bigint') return formatInt(Number(n))
  if (typeof n !== 'number') return String(n)
  return Number.isInteger(n) ? formatInt(n) : String(n)
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** One zod issue as a sentence for the person filling in the form. */
export function friendlyIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if ((issue.expected as string) === 'int') return 'Must be a whole number.'
      if (issue.expected === 'number') return 'Enter a number.'
      if (issue.expected === 'string') return 'This is required.'
      return 'This value is not valid.'
    case 'too_small': {
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'This can’t be empty.' : `Use at least ${num(issue.minimum)} characters.`
      if (issue.origin === 'array') return `Pick at least ${num(issue.minimum)}.`
      return issue.inclusive ? `Must be at least ${num(issue.minimum)}.` : `Must be more than ${num(issue.minimum)}.`
    }
    case 'too_big': {
      if (issue.origin === 'string') return `Use at most ${num(issue.maximum)} characters.`
      if (issue.origin === 'array') return `Pick at most ${num(issue.maximum)}.`
      return issue.inclusive ? `Must be at most ${num(issue.maximum)}.` : `Must be less than ${num(issue.maximum)}.`
    }
    case 'invalid_value':
    case 'invalid_union':
      return issue.message && !/^Invalid/.test(issue.message) ? `${capitalise(issue.message)}.` : 'Choose one of the options.'
    default: {
      const m = issue.message
      if (/whole number|integer/i.test(m) || (issue.code === 'invalid_format' && /int/i.test(m))) return 'Must be a whole number.'
      return m ? `${capitalise(m.replace(/\.$/, ''))}.` : 'This value is not valid.'
    }
  }
}
