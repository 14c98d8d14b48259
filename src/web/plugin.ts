import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Kalends } from '../app.ts'
import type { Actor } from '../domain/actor.ts'
import type { User } from '../db/schema.ts'
import { DomainError } from '../domain/errors.ts'
import { getOrg } from '../domain/orgs.ts'
import { html } from './html.ts'
import { fromAcceptLanguage, inLocale, isLang, setLang, type Lang } from './locale.ts'
import { PageError } from './params.ts'
import { profileRoutes } from './profile.ts'
import { setupPending, setupRoutes } from './setup.ts'
import { page, type PageOptions } from './layout.ts'
import { t } from './messages.ts'
import { createSession, destroySession, findSession, newToken, sameToken, type Session } from './sessions.ts'
import { adminRoutes } from './admin.ts'
import { calendarRoutes } from './calendars.ts'
import { connectionRoutes } from './connections.ts'
import { contactRoutes } from './contacts.ts'
import { deviceRoutes } from './devices.ts'
import { integrationRoutes } from './integrations.ts'
import { itemRoutes, reasonOf } from './items.ts'
import { viewRoutes } from './views.ts'
import { FULLCALENDAR_LOCALES, gridRoutes } from './grid.ts'
import { seriesRoutes } from './series.ts'
import { typeRoutes } from './types.ts'
import { syncProgressRoutes } from './sync-badge.ts'

/**
 * The web pages at /: sign-in with a session cookie, then the user's
 * devices, calendars and feed links, week and month views, tasks, the
 * "without case" list, connections to outside calendars, and the admin
 * pages. Every change goes through the same domain functions as the API
 * and CalDAV (origin "web"); access.ts decides what a user may see, and
 * what they may not see answers 404.
 *
 * Sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure, with
 * the __Host- prefix, when KALENDS_PUBLIC_URL is https), stored hashed; a new
 * id at every sign-in. Every POST carries the session's synchronizer token
 * (_csrf); the sign-in form, before there is a session, a double-submitted
 * token from a short-lived cookie.
 */
export type Web = {
  k: Kalends
  session (request: FastifyRequest): Session
  actor (request: FastifyRequest): Actor
  form (request: FastifyRequest): Record<string, string>
  render (request: FastifyRequest, reply: FastifyReply, o: Omit<PageOptions, 'user' | 'csrf'>, status?: number): FastifyReply
  /** The user's language, else the organisation's default, else the browser's (Accept-Language). */
  languageOf (request: FastifyRequest, user: User): Promise<Lang>
}

const STATIC = new URL('./static/', import.meta.url)
const CSS = 'text/css; charset=utf-8'
const JS = 'text/javascript; charset=utf-8'
// FullCalendar's browser bundle and its classic theme, from the installed package: no CDN, no build step.
const FULLCALENDAR = new URL('../../node_modules/fullcalendar/', import.meta.url)
const FILES: Record<string, { type: string; body: Buffer }> = {
  'app.css': { type: CSS, body: readFileSync(new URL('app.css', STATIC)) },
  'app.js': { type: JS, body: readFileSync(new URL('app.js', STATIC)) },
  'grid.js': { type: JS, body: readFileSync(new URL('grid.js', STATIC)) },
  'fullcalendar/global.js': { type: JS, body: readFileSync(new URL('all/global.js', FULLCALENDAR)) },
  'fullcalendar/theme.js': { type: JS, body: readFileSync(new URL('themes/classic/global.js', FULLCALENDAR)) },
  'fullcalendar/skeleton.css': { type: CSS, body: readFileSync(new URL('skeleton.css', FULLCALENDAR)) },
  'fullcalendar/theme.css': { type: CSS, body: readFileSync(new URL('themes/classic/theme.css', FULLCALENDAR)) },
  'fullcalendar/palette.css': { type: CSS, body: readFileSync(new URL('themes/classic/palette.css', FULLCALENDAR)) },
  ...Object.fromEntries(Object.values(FULLCALENDAR_LOCALES).map(code =>
    [`fullcalendar/locales/${code}.js`, { type: JS, body: readFileSync(new URL(`locales/${code}/global.js`, FULLCALENDAR)) }]))
}

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

export function parseCookies (header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim())
  }
  return out
}

/** The session cookie's name: with the __Host- prefix (and Secure) when the public address is https. */
export const sessionCookie = (publicUrl: string) => publicUrl.startsWith('https:') ? '__Host-kalends_session' : 'kalends_session'

/** The user's language, else the organisation's default, else the browser's (Accept-Language). */
async function languageOf (k: Kalends, request: FastifyRequest, user: User): Promise<Lang> {
  if (isLang(user.language)) return user.language
  const org = await getOrg(k.db, user)
  return isLang(org.defaultLanguage) ? org.defaultLanguage : fromAcceptLanguage(request.headers['accept-language'])
}

/**
 * What a browser gets for an address that has no page (the server's
 * not-found handler sends it here when the request accepts HTML and is
 * not for the API or DAV): a page in its language with a way back.
 */
export async function notFoundPage (k: Kalends, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const session = await findSession(k.db, parseCookies(request.headers.cookie).get(sessionCookie(k.config.publicUrl)))
  const lang = session === null ? fromAcceptLanguage(request.headers['accept-language']) : await languageOf(k, request, session.user)
  return inLocale(lang, () => reply.code(404).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page({
    title: t('error.notFound'), user: session?.user ?? null, csrf: session?.csrf,
    body: html`<p>${t('error.noPage', { path: request.url.split('?')[0]! })}</p><p><a href="${session === null ? '/sign-in' : '/week'}">${session === null ? t('signIn.title') : t('error.back')}</a></p>`
  })))
}

/** Where to go after signing in: only a path on this site. */
function safeNext (next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith('/sign-') ? next : '/week'
}

export default async function webPlugin (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  const { k } = opts
  const secure = k.config.publicUrl.startsWith('https:')
  const SESSION = sessionCookie(k.config.publicUrl)
  const PRE = secure ? '__Host-kalends_signin' : 'kalends_signin'
  const attrs = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
  const sessions = new WeakMap<FastifyRequest, Session>()

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => {
    const form: Record<string, string> = {}
    for (const [key, value] of new URLSearchParams(body as string)) form[key] = value
    done(null, form)
  })

  const web: Web = {
    k,
    session (request) {
      const s = sessions.get(request)
      if (s === undefined) throw new DomainError('unauthorized', 'sign in first')
      return s
    },
    actor: request => ({ user: web.session(request).user, origin: 'web' }),
    form: request => (typeof request.body === 'object' && request.body !== null ? request.body as Record<string, string> : {}),
    render (request, reply, o, status = 200) {
      const s = sessions.get(request) ?? null
      return reply.code(status).type('text/html; charset=utf-8').send(page({ ...o, user: s?.user ?? null, csrf: s?.csrf }))
    },
    languageOf: (request, user) => languageOf(k, request, user)
  }

  // Each request runs in its language: the browser's until the session's user is known (locale.ts).
  app.addHook('onRequest', (request, _reply, done) => {
    inLocale(fromAcceptLanguage(request.headers['accept-language']), done)
  })

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CSP)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-frame-options', 'DENY')
    reply.header('referrer-policy', 'same-origin')
    if (reply.getHeader('cache-control') === undefined) reply.header('cache-control', 'no-store')
  })

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config as { public?: boolean }
    if (config.public === true) return
    const session = await findSession(k.db, parseCookies(request.headers.cookie).get(SESSION))
    if (session === null) {
      const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : ''
      return reply.code(303).header('location', `/sign-in${next}`).header('set-cookie', `${SESSION}=; ${attrs}; Max-Age=0`).send()
    }
    sessions.set(request, session)
    setLang(await languageOf(k, request, session.user))
  })

  // The synchronizer token: every POST of a session carries it.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return
    const config = request.routeOptions.config as { public?: boolean }
    if (config.public === true) return
    if (!sameToken(web.form(request)._csrf, web.session(request).csrf)) {
      return web.render(request, reply, { title: t('error.title'), error: t('error.csrf'), body: html`<p><a href="/week">${t('error.back')}</a></p>` }, 403)
    }
  })

  app.setErrorHandler(async (err, request, reply) => {
    if (err instanceof PageError) {
      return web.render(request, reply, { title: t('error.badRequest'), error: t(err.messageId, err.vars), body: html`<p><a href="/week">${t('error.back')}</a></p>` }, err.status)
    }
    if (err instanceof DomainError && err.kind === 'not-found') {
      return web.render(request, reply, { title: t('error.notFound'), body: html`<p>${t('error.notFoundText')}</p><p><a href="/week">${t('error.back')}</a></p>` }, 404)
    }
    const status = err instanceof DomainError ? err.status : typeof (err as { statusCode?: number }).statusCode === 'number' && (err as { statusCode: number }).statusCode < 500 ? (err as { statusCode: number }).statusCode : 500
    if (status >= 500) request.log.error({ err }, 'page failed')
    const message = status >= 500 ? t('error.title') : err instanceof DomainError ? reasonOf(err) : (err as Error).message
    return web.render(request, reply, { title: t('error.title'), error: message, body: html`<p><a href="/week">${t('error.back')}</a></p>` }, status)
  })

  app.get('/static/*', { config: { public: true } }, async (request, reply) => {
    const file = FILES[(request.params as { '*': string })['*']]
    if (file === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Not found\n')
    return reply.header('cache-control', 'public, max-age=300').type(file.type).send(file.body)
  })

  app.get('/', async (_request, reply) => reply.code(303).header('location', '/week').send())

  // sign-in and sign-out
  const signInPage = (request: FastifyRequest, reply: FastifyReply, o: { token: string; next: string; login?: string; error?: string; notice?: string }, status = 200) => {
    reply.header('set-cookie', `${PRE}=${o.token}; ${attrs}; Max-Age=3600`)
    return web.render(request, reply, {
      title: t('signIn.title'),
      error: o.error ?? null,
      notice: o.notice ?? null,
      body: html`<form method="post" action="/sign-in" class="stack">
        <input type="hidden" name="_csrf" value="${o.token}">
        <input type="hidden" name="next" value="${o.next}">
        <div class="field"><label for="login">${t('signIn.login')}</label><input type="text" id="login" name="login" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${o.login ?? ''}"></div>
        <div class="field"><label for="password">${t('signIn.password')}</label><input type="password" id="password" name="password" autocomplete="current-password" required></div>
        <div><button type="submit">${t('signIn.submit')}</button></div>
      </form>`
    }, status)
  }

  app.get('/sign-in', { config: { public: true } }, async (request, reply) => {
    const q = request.query as { next?: string; out?: string }
    return signInPage(request, reply, { token: newToken(), next: safeNext(q.next), notice: q.out === '1' ? t('signIn.signedOut') : undefined })
  })

  app.post('/sign-in', { config: { public: true } }, async (request, reply) => {
    const f = web.form(request)
    const next = safeNext(f.next)
    const again = (error: string, status: number) => signInPage(request, reply, { token: newToken(), next, login: f.login, error }, status)
    if (!sameToken(f._csrf, parseCookies(request.headers.cookie).get(PRE) ?? '')) return again(t('error.csrf'), 403)
    let result
    try {
      result = await k.signIn.verify(f.login ?? '', f.password ?? '', request)
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'too-many-requests') {
        if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds))
        return again(reasonOf(err), 429)
      }
      throw err
    }
    if (result === null) return again(t('signIn.wrong'), 401)
    if (result.appPasswordId !== null) return again(t('signIn.appPassword'), 401)
    // Whatever session id came with the request is dropped: the session is always a new one.
    const old = await findSession(k.db, parseCookies(request.headers.cookie).get(SESSION))
    if (old !== null) await destroySession(k.db, old.idHash)
    const { id } = await createSession(k.db, result.user)
    // an administrator's sign-in shows the first steps until they are done or hidden
    const to = next === '/week' && await setupPending(k, result.user) ? '/admin/setup' : next
    return reply.code(303).header('location', to)
      .header('set-cookie', [`${SESSION}=${id}; ${attrs}`, `${PRE}=; ${attrs}; Max-Age=0`]).send()
  })

  app.post('/sign-out', async (request, reply) => {
    await destroySession(k.db, web.session(request).idHash)
    return reply.code(303).header('location', '/sign-in?out=1').header('set-cookie', `${SESSION}=; ${attrs}; Max-Age=0`).send()
  })

  deviceRoutes(app, web)
  calendarRoutes(app, web)
  viewRoutes(app, web)
  gridRoutes(app, web)
  seriesRoutes(app, web)
  typeRoutes(app, web)
  syncProgressRoutes(app, web)
  itemRoutes(app, web)
  connectionRoutes(app, web)
  contactRoutes(app, web)
  adminRoutes(app, web)
  integrationRoutes(app, web)
  profileRoutes(app, web)
  setupRoutes(app, web)
}
