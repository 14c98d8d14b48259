import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * The language of one request. Pages call t() without passing it around: the
 * web plugin runs each request inside a context holding its language (the
 * user's, else the organisation's default, else Accept-Language), and t()
 * and the date formatters read it from there. Outside a request: English.
 */
export const LANGS = ['en', 'pl', 'ro', 'ru', 'nl'] as const
export type Lang = typeof LANGS[number]

/** The Intl locale each language formats dates with (en: British, a Monday week and 24-hour times). */
const INTL: Record<Lang, string> = { en: 'en-GB', pl: 'pl-PL', ro: 'ro-RO', ru: 'ru-RU', nl: 'nl-NL' }

/** Each language's own name, for the choosers. */
export const LANG_NAMES: Record<Lang, string> = { en: 'English', pl: 'Polski', ro: 'Română', ru: 'Русский', nl: 'Nederlands' }

export const isLang = (value: unknown): value is Lang => typeof value === 'string' && (LANGS as readonly string[]).includes(value)

type Context = { lang: Lang }
const store = new AsyncLocalStorage<Context>()

export const currentLang = (): Lang => store.getStore()?.lang ?? 'en'
export const intlLocale = (lang: Lang = currentLang()): string => INTL[lang]

/** Runs fn (and everything it starts) in a language; the context can be changed later in the request with setLang. */
export function inLocale<T> (lang: Lang, fn: () => T): T {
  return store.run({ lang }, fn)
}

/** Changes the language of the running request (once its user is known). */
export function setLang (lang: Lang): void {
  const ctx = store.getStore()
  if (ctx !== undefined) ctx.lang = lang
}

/** The best of our languages for an Accept-Language header (RFC 9110 §12.5.4), English when none fits. */
export function fromAcceptLanguage (header: string | undefined): Lang {
  const ranked = (header ?? '').split(',').map((part, i) => {
    const [tag, ...params] = part.trim().split(';')
    const q = params.map(p => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(x => x !== undefined)
    return { lang: (tag ?? '').trim().toLowerCase().split('-')[0]!, q: q === undefined ? 1 : Number(q), i }
  }).filter(x => x.q > 0 && !Number.isNaN(x.q)).sort((a, b) => b.q - a.q || a.i - b.i)
  return ranked.map(x => x.lang).find(isLang) ?? 'en'
}

/** The first day of the week in the language's region: 1 = Monday … 7 = Sunday (Intl.Locale week info). */
export function firstDayOfWeek (lang: Lang = currentLang()): number {
  const loc = new Intl.Locale(INTL[lang]) as Intl.Locale & { getWeekInfo?: () => { firstDay: number }; weekInfo?: { firstDay: number } }
  return loc.getWeekInfo?.().firstDay ?? loc.weekInfo?.firstDay ?? 1
}
