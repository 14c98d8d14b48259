import type { User } from '../db/schema.ts'
import { html, raw, type Html } from './html.ts'
import { t, type MessageId } from './messages.ts'

/** The page shell: landmarks, a skip link, the navigation, and the notices of one request. */
export type PageOptions = {
  title: string
  user: User | null
  csrf?: string
  current?: string
  notice?: string | null
  error?: string | null
  body: Html
}

const NAV: [string, MessageId][] = [
  ['/week', 'nav.week'], ['/month', 'nav.month'], ['/tasks', 'nav.tasks'], ['/without-case', 'nav.withoutCase'],
  ['/contacts', 'nav.contacts'], ['/calendars', 'nav.calendars'], ['/devices', 'nav.devices'], ['/connections', 'nav.connections']
]

export function page (o: PageOptions): string {
  const nav = o.user === null
    ? ''
    : html`<nav aria-label="${t('nav.label')}"><ul>${[
        ...NAV.map(([href, id]) => html`<li><a href="${href}"${o.current === href ? raw(' aria-current="page"') : ''}>${t(id)}</a></li>`),
        o.user.role === 'admin' ? html`<li><a href="/admin/users"${o.current?.startsWith('/admin') === true ? raw(' aria-current="page"') : ''}>${t('nav.admin')}</a></li>` : ''
      ]}</ul></nav>
      <div class="who"><span>${t('nav.signedInAs', { name: o.user.name })}</span>
        <form method="post" action="/sign-out" class="inline">${csrfField(o.csrf ?? '')}<button class="secondary" type="submit">${t('nav.signOut')}</button></form></div>`
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · ${t('app.name')}</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">${t('nav.skip')}</a>
<header class="site"><a class="brand" href="/">${t('app.name')}</a>${nav}</header>
<main id="main" tabindex="-1">
<h1>${o.title}</h1>
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
${o.error ? html`<p class="error" role="alert" id="form-error">${o.error}</p>` : ''}
${o.body}
</main>
</body>
</html>`.text
}

export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`

/** A read-only text with a copy button; `id` names the input for the label and the script. */
export function copyField (id: string, label: string, value: string): Html {
  return html`<div class="field"><label for="${id}">${label}</label>
    <div class="copy"><input type="text" id="${id}" value="${value}" readonly>
    <button type="button" class="secondary" data-copy="${id}" data-copied="${t('common.copied')}" data-failed="${t('common.copyFailed')}">${t('common.copy')}</button>
    <span class="copy-status" id="${id}-status" role="status"></span></div></div>`
}

/** A small form of one button that posts with the session's token. */
export function postButton (action: string, csrf: string, label: string, opts: { aria?: string; cls?: string; fields?: Record<string, string> } = {}): Html {
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrf)}${Object.entries(opts.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit" class="${opts.cls ?? 'secondary'}"${opts.aria === undefined ? '' : html` aria-label="${opts.aria}"`}>${label}</button></form>`
}

/** Date and time in the user's zone, for lists. */
export function when (d: Date | null, zone: string): string {
  if (d === null) return t('common.never')
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' }).format(d)
}

const COLOR = /^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$/
/** A calendar's colour as a CSS custom property; only well-formed colours reach the style attribute. */
export const colourStyle = (color: string | null | undefined) => (color != null && COLOR.test(color) ? html` style="--c:${color.slice(0, 7)}"` : '')
export const swatch = (color: string | null | undefined) => html`<span class="swatch"${colourStyle(color)} aria-hidden="true"></span>`
