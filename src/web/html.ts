/**
 * HTML built with a tagged template that escapes every interpolated value
 * unless it is already Html (another template, or raw() for markup we wrote).
 * Arrays are joined, null/undefined/false render nothing.
 */
export class Html {
  readonly text: string
  constructor (text: string) { this.text = text }
  toString (): string { return this.text }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escape (value: string): string {
  return value.replace(/[&<>"']/g, c => ESCAPES[c]!)
}

type Value = Html | string | number | boolean | null | undefined | Value[]

function render (v: Value): string {
  if (v === null || v === undefined || v === false) return ''
  if (v instanceof Html) return v.text
  if (Array.isArray(v)) return v.map(render).join('')
  return escape(String(v))
}

export function html (strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!
  return new Html(out)
}

/** Markup written in this code base, never user input. */
export const raw = (text: string) => new Html(text)
