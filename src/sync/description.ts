/**
 * The CRM fields a connection writes into an external item's description go
 * below a marker line, so the user's own text above it survives both ways.
 * Every provider's mapping adds and strips them here.
 */
export const MARKER = '-- Kalends --'

export function withExtras (text: string, extras: string[]): string {
  if (extras.length === 0) return text
  return `${text === '' ? '' : `${text}\n\n`}${MARKER}\n${extras.join('\n')}`
}

export function withoutExtras (text: string): string {
  const at = text.lastIndexOf(MARKER)
  if (at === -1) return text
  return text.slice(0, at).replace(/\n\n$/, '').replace(/\n$/, '')
}
