import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listItemTypes } from '../domain/cases.ts'
import { invalid } from '../domain/errors.ts'
import { connectionOf, disconnect, logOf, requestSync, saveOptions, syncSince, userConnections, viewOf, type ConnectionView } from '../sync/connections.ts'
import { providerContext } from '../sync/engine.ts'
import { GoogleRefused } from '../sync/google/client.ts'
import { completeConsent, connectDelegated, consentUrl } from '../sync/google/consent.ts'
import { loadGoogleIntegration } from '../sync/google/integration.ts'
import { connectExchange } from '../sync/ews/connect.ts'
import { loadExchangeIntegration, type ExchangeIntegration } from '../sync/ews/integration.ts'
import { GraphRefused } from '../sync/graph/client.ts'
import { completeGraphConsent, connectGraphOrganisation, graphConsentUrl } from '../sync/graph/consent.ts'
import { loadGraphIntegration } from '../sync/graph/integration.ts'
import { CONTACT_SCOPES, DESCRIPTION_FIELDS, type SyncOptions } from '../sync/options.ts'
import { AuthFailed, CursorExpired, RemoteConflict, Transient, type Choice } from '../sync/provider.ts'
import type { Connection } from '../sync/tables.ts'
import { html, raw, type Html } from './html.ts'
import { csrfField, postButton, when } from './layout.ts'
import { t, type MessageId } from './messages.ts'
import { reasonOf, saving } from './items.ts'
import { idParam } from './params.ts'
import type { Web } from './plugin.ts'

/**
 * Connections: the user's two-way syncs with outside calendars (Google,
 * Exchange), each with its state in words (green when syncing, red with the
 * reason), counts, "sync now", "sync since date", disconnect, reconnect,
 * the options and the last lines of its log. Everything goes through
 * src/sync (connections.ts, google/consent.ts, ews/connect.ts); another
 * user's connection answers 404. One card serves every provider: only the
 * words for its direction, its sign-in and how to reconnect differ.
 *
 * "Connect Google" is a link, not a form: the consent screen is on another
 * site, and the CSP's form-action 'self' would stop a form's redirect there.
 */
type Form = Record<string, string>
type Failure = { id: number | null; message: string; field?: string; form?: Form }

const LOG_LINES = 50
/** The page waits this long for the provider's lists of calendars and task lists. */
const CHOICES_MS = 8000
const NOTICES: Record<string, MessageId> = {
  connected: 'conn.done.connected', reconnected: 'conn.done.reconnected', queued: 'conn.done.queued',
  since: 'conn.done.since', saved: 'conn.done.saved', disconnected: 'conn.done.disconnected',
  'exchange-connected': 'exchange.done.connected', 'exchange-reconnected': 'exchange.done.reconnected'
}
/** The card's words that name the provider: Exchange has its own, every other provider Google's for now. */
type ProviderWord = 'calendar' | 'taskList' | 'appointmentType' | 'taskType' | 'descriptionFields' | 'disconnectText' | 'dir.in' | 'dir.out' | `via.${Connection['auth_kind']}`
const said = (provider: string, word: ProviderWord): string => provider === 'exchange' ? t(`exchange.${word}`) : t(`conn.${word}`)
const dirLabel = (provider: string, dir: 'in' | 'out' | 'none'): string => dir === 'none' ? t('conn.dir.none') : said(provider, `dir.${dir}`)
const FIELD_LABELS: Record<string, MessageId> = {
  appointments: 'conn.what', calendarId: 'conn.calendar', taskListId: 'conn.taskList', appointmentTypeId: 'conn.appointmentType',
  taskTypeId: 'conn.taskType', startDate: 'conn.startDate', daysBefore: 'conn.daysBefore', daysAfter: 'conn.daysAfter',
  descriptionFields: 'conn.descriptionFields', pollMinutes: 'conn.pollMinutes', since: 'conn.since', contacts: 'conn.contacts'
}
/** Google refused or could not be reached (src/sync/google/client.ts classify): 502 with the reason, not a 500. */
const refusedByGoogle = (err: unknown): err is Error =>
  err instanceof AuthFailed || err instanceof Transient || err instanceof RemoteConflict || err instanceof CursorExpired || err instanceof GoogleRefused || err instanceof GraphRefused

/** Where a provider's sign-in starts (a reconnect too). */
const startPath = (provider: Connection['provider']) => provider === 'graph' ? '/connections/microsoft/start' : '/connections/google/start'
/** How a connection reaches its account, in words. */
const viaText = (v: ConnectionView): string => v.provider === 'graph' ? t(v.authKind === 'delegation' ? 'ms.via.delegation' : 'ms.via.oauth') : said(v.provider, `via.${v.authKind}`)

/** What the options form posted, as updateOptions takes it. */
function optionsInput (f: Form): Record<string, unknown> {
  const input: Record<string, unknown> = {
    appointments: f.appointments === '1',
    tasks: f.tasks === '1',
    descriptionFields: DESCRIPTION_FIELDS.filter(x => f[`desc-${x}`] === '1')
  }
  for (const key of ['calendarId', 'taskListId', 'appointmentTypeId', 'taskTypeId', 'pollMinutes', 'contacts']) if (f[key] !== undefined) input[key] = f[key]
  if (f.window === 'date' && (f.startDate ?? '') === '') throw invalid('startDate', 'choose the date the first sync starts from')
  input.startDate = f.window === 'date' ? f.startDate : null
  input.daysBefore = f.window === 'days' ? f.daysBefore : null
  input.daysAfter = f.window === 'days' ? f.daysAfter : null
  return input
}

/** The options as the form shows them. */
function formOf (o: SyncOptions): Form {
  const f: Form = {
    appointments: o.appointments ? '1' : '', tasks: o.tasks ? '1' : '', calendarId: o.calendarId, taskListId: o.taskListId,
    appointmentTypeId: o.appointmentTypeId === null ? '' : String(o.appointmentTypeId), taskTypeId: o.taskTypeId === null ? '' : String(o.taskTypeId),
    window: o.startDate !== null ? 'date' : o.daysBefore !== null || o.daysAfter !== null ? 'days' : 'all',
    startDate: o.startDate ?? '', daysBefore: o.daysBefore === null ? '' : String(o.daysBefore), daysAfter: o.daysAfter === null ? '' : String(o.daysAfter),
    pollMinutes: String(o.pollMinutes), contacts: o.contacts
  }
  for (const d of o.descriptionFields) f[`desc-${d}`] = '1'
  return f
}

/** The current choice stays in the list even when the provider's lists could not be read or no longer hold it. */
const DEFAULT_NAMES: Record<string, MessageId> = { primary: 'conn.primaryCalendar', '@default': 'conn.defaultTaskList' }
const withCurrent = (list: Choice[], current: string): Choice[] => list.some(c => c.id === current)
  ? list
  : [{ id: current, name: DEFAULT_NAMES[current] === undefined ? current : t(DEFAULT_NAMES[current]) }, ...list]

export function connectionRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  async function choicesOf (conn: Connection, view: ConnectionView): Promise<{ calendars: Choice[]; taskLists: Choice[]; error: string | null }> {
    const none = { calendars: [], taskLists: [] }
    const provider = k.sync.engine.providers.get(view.provider)
    if (provider?.choices === undefined) return { ...none, error: null }
    if (view.needsReconnect) return { ...none, error: view.reason ?? t('conn.failed') }
    try {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(t('conn.choicesLate'))), CHOICES_MS) })
      try {
        return { ...await Promise.race([provider.choices(conn, providerContext(k.sync.engine, conn)), late]), error: null }
      } finally {
        clearTimeout(timer)
      }
    } catch (err) {
      return { ...none, error: (err as Error).message }
    }
  }

  async function show (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string | null; failure?: Failure } = {}, status = 200) {
    const s = web.session(request)
    const user = s.user
    const zone = user.timezone
    const [rows, types, google, exchange, microsoft] = await Promise.all([
      userConnections(k.db, user), listItemTypes(k.db, user), loadGoogleIntegration(k.db, k.secrets, user.org_id, k.config.google),
      loadExchangeIntegration(k.db, k.secrets, user.org_id), loadGraphIntegration(k.db, k.secrets, user.org_id)
    ])
    const views = rows.map(viewOf)
    const details = await Promise.all(rows.map(async (c, i) => ({ choices: await choicesOf(c, views[i]!), log: await logOf(k.db, c, LOG_LINES) })))
    const failure = extra.failure
    const enabled = google !== null && google.enabled && google.clientId !== ''
    const workspace = enabled && google.serviceAccount !== null && google.delegationDomain !== null
    const m365 = microsoft !== null && microsoft.enabled && microsoft.clientId !== '' && (microsoft.clientSecret !== '' || microsoft.certificate !== null)

    const typeOptions = (kind: 'appointment' | 'task', value: string) => [
      html`<option value="">${t('conn.noType')}</option>`,
      ...types.filter(x => x.applies_to === kind).map(x => html`<option value="${x.id}"${String(x.id) === value ? html` selected` : ''}>${x.name}</option>`)
    ]
    const choiceOptions = (list: Choice[], value: string) => withCurrent(list, value).map(c => html`<option value="${c.id}"${c.id === value ? html` selected` : ''}>${c.name}</option>`)

    const badge = (v: ConnectionView): Html => {
      if (v.healthy) {
        return html`<p class="badge good" role="status"><span aria-hidden="true">✓</span> ${t('conn.good', { when: when(v.lastSuccessAt ?? v.stateAt, zone) })}</p>
          ${v.reason === null ? '' : html`<p class="muted">${t('conn.lately', { reason: v.reason, when: when(v.stateAt, zone) })}</p>`}`
      }
      if (v.state === 'error') return html`<p class="badge bad" role="status"><span aria-hidden="true">✗</span> ${t('conn.bad', { reason: v.reason ?? t('conn.failed'), when: when(v.stateAt, zone) })}</p>`
      return html`<p class="badge wait" role="status"><span aria-hidden="true">…</span> ${t('conn.pending', { reason: v.reason ?? t('conn.pendingFirst'), when: when(v.stateAt, zone) })}</p>`
    }

    const pushFact = (v: ConnectionView): string => {
      const minutes = v.options.pollMinutes
      if (v.pushState === 'failing') return t('conn.pushFailing', { minutes, reason: v.pushReason ?? '' })
      return v.pushState === 'on' ? t('conn.pushOn') : v.pushState === 'starting' ? t(v.provider === 'exchange' ? 'conn.pushStartingExchange' : 'conn.pushStarting') : t('conn.pushOff', { minutes })
    }

    /** Google: consent again; Exchange: the password again (or, through the service account, just try again). */
    const reconnect = (v: ConnectionView): Html => {
      const account = v.account
      if (v.provider !== 'exchange') return html`<p>${t('conn.reconnectText')} <a class="button" href="${startPath(v.provider)}?reconnect=${v.id}" aria-label="${t('conn.reconnectLabel', { account })}">${t('conn.reconnect')}</a></p>`
      if (v.authKind === 'delegation') return html`<p>${t('exchange.reconnectService')}</p>${postButton('/connections/exchange', s.csrf, t('conn.reconnect'), { aria: t('conn.reconnectLabel', { account }), fields: { account } })}`
      return html`<p>${t('exchange.reconnectText')}</p>${exchangeLoginForm(`r${v.id}`, { account }, t('conn.reconnect'), true)}`
    }

    const card = (v: ConnectionView, i: number): Html => {
      const { choices, log } = details[i]!
      const mine = failure?.id === v.id
      const f = mine && failure.form !== undefined && failure.field !== 'since' ? failure.form : formOf(v.options)
      const bad = (name: string) => mine && failure.field === name ? html` aria-invalid="true" aria-describedby="form-error"` : ''
      const id = (name: string) => `c${v.id}-${name}`
      const input = (name: string, type: string, extraAttrs: Html | string = '') => html`<input type="${type}" id="${id(name)}" name="${name}" value="${f[name] ?? ''}"${bad(name)}${extraAttrs}>`
      const check = (name: string, label: string) => html`<label class="check"><input type="checkbox" id="${id(name)}" name="${name}" value="1"${f[name] === '1' ? html` checked` : ''}${bad(name === 'tasks' ? 'appointments' : name)}> ${label}</label>`
      const radio = (value: string, label: string) => html`<label class="check"><input type="radio" name="window" value="${value}"${f.window === value ? html` checked` : ''}> ${label}</label>`
      const account = v.account
      return html`<section class="card connection" id="connection-${v.id}" aria-labelledby="${id('h')}">
        <h2 id="${id('h')}">${t('conn.heading', { provider: t(`conn.provider.${v.provider}`), account })}</h2>
        ${badge(v)}
        ${v.needsReconnect ? reconnect(v) : ''}
        <dl class="facts">
          <div><dt>${t('conn.lastSuccess')}</dt><dd>${when(v.lastSuccessAt, zone)}</dd></div>
          <div><dt>${t('conn.itemsIn')}</dt><dd>${v.itemsIn}</dd></div>
          <div><dt>${t('conn.itemsOut')}</dt><dd>${v.itemsOut}</dd></div>
          <div><dt>${t('conn.push')}</dt><dd>${pushFact(v)}</dd></div>
          <div><dt>${t('conn.via')}</dt><dd>${viaText(v)}</dd></div>
        </dl>
        <div class="toolbar">
          ${postButton(`/connections/${v.id}/sync`, s.csrf, t('conn.syncNow'), { cls: 'primary', aria: t('conn.syncNowLabel', { account }) })}
          <form method="post" action="/connections/${v.id}/since" class="inline">${csrfField(s.csrf)}
            <div class="field"><label for="${id('since')}">${t('conn.since')}</label><input type="date" id="${id('since')}" name="since" required value="${mine ? failure.form?.since ?? '' : ''}"${bad('since')} aria-describedby="${id('since-hint')}"></div>
            <button type="submit" class="secondary">${t('conn.sinceSubmit')}</button></form>
          <form method="post" action="/connections/${v.id}/disconnect" class="inline" data-confirm="${t('conn.disconnectConfirm', { account })}">${csrfField(s.csrf)}
            ${v.options.contacts === 'off' ? '' : html`<label class="check"><input type="checkbox" id="${id('removeContacts')}" name="removeContacts"> ${t('conn.removeContacts')}</label>`}
            <button type="submit" class="danger" aria-label="${t('conn.disconnectLabel', { account })}" aria-describedby="${id('disconnect-hint')}">${t('conn.disconnect')}</button></form>
        </div>
        <p class="muted" id="${id('since-hint')}">${t('conn.sinceHint')}</p>
        <p class="muted" id="${id('disconnect-hint')}">${said(v.provider, 'disconnectText')}</p>
        <h3 id="${id('options-h')}">${t('conn.options')}</h3>
        ${choices.error === null ? '' : html`<p class="muted">${t('conn.choicesFailed', { reason: choices.error })}</p>`}
        <form method="post" action="/connections/${v.id}/options" class="stack" aria-labelledby="${id('options-h')}">${csrfField(s.csrf)}
          <fieldset><legend>${t('conn.what')}</legend>${check('appointments', t('conn.appointments'))}${check('tasks', t('conn.tasks'))}</fieldset>
          <div class="row">
            <div class="field"><label for="${id('calendarId')}">${said(v.provider, 'calendar')}</label><select id="${id('calendarId')}" name="calendarId"${bad('calendarId')}>${choiceOptions(choices.calendars, f.calendarId ?? 'primary')}</select></div>
            <div class="field"><label for="${id('taskListId')}">${said(v.provider, 'taskList')}</label><select id="${id('taskListId')}" name="taskListId"${bad('taskListId')}>${choiceOptions(choices.taskLists, f.taskListId ?? '@default')}</select></div>
            <div class="field"><label for="${id('appointmentTypeId')}">${said(v.provider, 'appointmentType')}</label><select id="${id('appointmentTypeId')}" name="appointmentTypeId"${bad('appointmentTypeId')}>${typeOptions('appointment', f.appointmentTypeId ?? '')}</select></div>
            <div class="field"><label for="${id('taskTypeId')}">${said(v.provider, 'taskType')}</label><select id="${id('taskTypeId')}" name="taskTypeId"${bad('taskTypeId')}>${typeOptions('task', f.taskTypeId ?? '')}</select></div>
          </div>
          <fieldset><legend>${t('conn.window')}</legend>
            ${radio('all', t('conn.window.all'))}${radio('date', t('conn.window.date'))}
            <div class="field"><label for="${id('startDate')}">${t('conn.startDate')}</label>${input('startDate', 'date')}</div>
            ${radio('days', t('conn.window.days'))}
            <div class="row">
              <div class="field"><label for="${id('daysBefore')}">${t('conn.daysBefore')}</label>${input('daysBefore', 'number', raw(' min="0" max="3650" inputmode="numeric"'))}</div>
              <div class="field"><label for="${id('daysAfter')}">${t('conn.daysAfter')}</label>${input('daysAfter', 'number', raw(' min="0" max="3650" inputmode="numeric"'))}</div>
            </div></fieldset>
          <fieldset><legend>${said(v.provider, 'descriptionFields')}</legend>${DESCRIPTION_FIELDS.map(d => check(`desc-${d}`, t(`conn.desc.${d}`)))}</fieldset>
          <div class="field"><label for="${id('pollMinutes')}">${t('conn.pollMinutes')}</label>${input('pollMinutes', 'number', raw(' min="1" max="1440" required inputmode="numeric"'))}</div>
          ${v.provider !== 'google' ? '' : html`<div class="field"><label for="${id('contacts')}">${t('conn.contacts')}</label><select id="${id('contacts')}" name="contacts" aria-describedby="${id('contacts-hint')}"${bad('contacts')}>${CONTACT_SCOPES.map(c => html`<option value="${c}"${(f.contacts ?? 'off') === c ? html` selected` : ''}>${t(`conn.contacts.${c}`)}</option>`)}</select>
            <p class="muted" id="${id('contacts-hint')}">${t('conn.contactsHint')}</p></div>`}
          <div><button type="submit">${t('conn.saveOptions')}</button></div>
        </form>
        <h3 id="${id('log-h')}">${t('conn.log', { count: LOG_LINES })}</h3>
        ${log.length === 0
          ? html`<p class="muted">${t('conn.logEmpty')}</p>`
          : html`<div class="table-wrap"><table class="list log" aria-labelledby="${id('log-h')}"><thead><tr><th scope="col">${t('conn.logAt')}</th><th scope="col">${t('conn.logDirection')}</th><th scope="col">${t('conn.logAction')}</th><th scope="col">${t('conn.logItem')}</th><th scope="col">${t('conn.logMessage')}</th></tr></thead><tbody>
            ${log.map(l => html`<tr${l.action === 'error' ? html` class="bad"` : ''}><td>${when(l.at, zone)}</td><td data-label="${t('conn.logDirection')}">${dirLabel(v.provider, l.direction)}</td><td data-label="${t('conn.logAction')}">${l.action}</td>
              <td${l.item_id === null ? '' : html` data-label="${t('conn.logItem')}"`}>${l.item_kind === null || l.item_id === null ? '' : l.action === 'deleted' ? t(`conn.item.${l.item_kind}`, { id: l.item_id }) : html`<a href="/${l.item_kind === 'task' ? 'tasks' : 'appointments'}/${l.item_id}/edit">${t(`conn.item.${l.item_kind}`, { id: l.item_id })}</a>`}</td>
              <td data-label="${t('conn.logMessage')}">${l.message}</td></tr>`)}
            </tbody></table></div>`}
      </section>`
    }

    /** The user's own Exchange login; the password is never shown back. */
    const exchangeLoginForm = (prefix: string, values: Form, label: string, fixedAccount = false): Html => {
      const mine = failure?.form?.exchange === prefix
      const f = mine ? failure.form! : values
      const bad = (name: string) => mine && failure.field === name ? html` aria-invalid="true" aria-describedby="form-error"` : ''
      const bearer = exchange?.auth === 'bearer'
      return html`<form method="post" action="/connections/exchange" class="stack">${csrfField(s.csrf)}<input type="hidden" name="exchange" value="${prefix}">
        ${fixedAccount
          ? html`<input type="hidden" name="account" value="${f.account ?? ''}">`
          : html`<div class="field"><label for="${prefix}-account">${t('exchange.account')}</label><input type="email" id="${prefix}-account" name="account" value="${f.account ?? ''}" required autocomplete="email" spellcheck="false"${bad('account')}></div>`}
        ${bearer
          ? html`<div class="field"><label for="${prefix}-token">${t('exchange.token')}</label><input type="password" id="${prefix}-token" name="token" value="" required autocomplete="off"${bad('token')}></div>`
          : html`<div class="row"><div class="field"><label for="${prefix}-username">${t('exchange.username')}</label><input type="text" id="${prefix}-username" name="username" value="${f.username ?? ''}" autocomplete="username" spellcheck="false" autocapitalize="none" aria-describedby="${prefix}-username-hint"${bad('username')}>
            <span class="muted" id="${prefix}-username-hint">${t('exchange.usernameHint')}</span></div>
            <div class="field"><label for="${prefix}-password">${t('exchange.password')}</label><input type="password" id="${prefix}-password" name="password" value="" required autocomplete="current-password"${bad('password')}></div></div>`}
        <div><button type="submit">${label}</button></div></form>`
    }

    const exchangeOn = exchange !== null && exchange.enabled
    const hasExchange = rows.some(c => c.provider === 'exchange')
    const exchangeSection = (x: ExchangeIntegration | null): Html => {
      if (x === null || !exchangeOn) return html`<p class="notice-off">${t('exchange.off')}</p>`
      if (x.mode === 'service') {
        // connected by the organisation without asking (ews/service-mode.ts): the user sees that it is on, or about to be
        if (hasExchange) return html`<p class="muted" id="exchange-service">${t('exchange.serviceOn')}</p>`
        return html`<div class="banner" role="region" aria-label="${t('admin.exchange')}"><p id="exchange-service">${t((user.email ?? '') === '' ? 'exchange.banner' : 'exchange.serviceSoon', { account: user.email ?? '' })}</p>
          ${postButton('/connections/exchange', s.csrf, t('exchange.synchronise'), { cls: 'primary' })}</div>`
      }
      return html`<details${failure?.form?.exchange === 'new' ? html` open` : ''}><summary>${t('exchange.connect')}</summary><p>${t('exchange.connectText')}</p>
        ${exchangeLoginForm('new', { account: user.email ?? '' }, t('exchange.connect'))}</details>`
    }

    return web.render(request, reply, {
      title: t('conn.title'), current: '/connections', notice: extra.notice ?? null, error: failure?.message ?? null,
      body: html`<p>${t('conn.intro')}</p>
        ${enabled
          ? html`<div class="toolbar"><a class="button" href="/connections/google/start">${t('conn.connectGoogle')}</a>
            ${workspace ? postButton('/connections/google/workspace', s.csrf, t('conn.connectWorkspace')) : ''}</div>
            ${workspace ? html`<p class="muted">${t('conn.workspaceHint')}</p>` : ''}`
          : html`<p class="notice-off">${t('conn.googleOff')}</p>`}
        ${exchangeSection(exchange)}
        ${m365
          ? html`<div class="toolbar"><a class="button" href="/connections/microsoft/start">${t('ms.conn.connect')}</a>
            ${microsoft.orgWide ? postButton('/connections/microsoft/organisation', s.csrf, t('ms.conn.connectOrg')) : ''}</div>
            ${microsoft.orgWide ? html`<p class="muted">${t('ms.conn.orgHint')}</p>` : ''}`
          : html`<p class="notice-off">${t('ms.conn.off')}</p>`}
        ${views.length === 0 ? html`<p>${t('conn.none')}</p>` : views.map(card)}`
    }, status)
  }

  /** Runs an action; a refusal the user can act on shows the page with its reason, and nothing changes. */
  async function acting (request: FastifyRequest, reply: FastifyReply, id: number | null, act: () => Promise<FastifyReply>, form?: Form): Promise<FastifyReply> {
    try {
      return await saving(act, err => show(request, reply, { failure: { id, message: reasonOf(err, FIELD_LABELS), field: err.field, form } }, err.status))
    } catch (err) {
      if (!refusedByGoogle(err)) throw err
      request.log.warn({ err }, 'the provider refused')
      const graph = err instanceof GraphRefused || (id !== null && (await connectionOf(k.db, web.session(request).user, id).catch(() => null))?.provider === 'graph')
      return show(request, reply, { failure: { id, message: graph ? t('ms.conn.failed', { reason: err.message }) : t('conn.googleFailed', { reason: err.message }) } }, 502)
    }
  }
  const done = (reply: FastifyReply, what: keyof typeof NOTICES & string, id?: number) =>
    reply.code(303).header('location', `/connections?done=${what}${id === undefined ? '' : `#connection-${id}`}`).send()

  app.get('/connections', async (request, reply) => {
    const n = (request.query as { done?: string }).done
    return show(request, reply, { notice: n === undefined || NOTICES[n] === undefined ? null : t(NOTICES[n]) })
  })

  /** To the provider's sign-in, with the account as a hint: the user's address, or the connection's on a reconnect. */
  const signInRoute = (path: string, urlOf: (user: ReturnType<typeof web.session>['user'], opts: { loginHint?: string }) => Promise<string>) => {
    app.get(path, async (request, reply) => {
      const user = web.session(request).user
      const again = (request.query as { reconnect?: string }).reconnect
      return acting(request, reply, null, async () => {
        const hint = again === undefined || !/^\d{1,15}$/.test(again) ? user.email : (await connectionOf(k.db, user, Number(again))).account
        return reply.code(302).header('location', await urlOf(user, hint === null || hint === '' ? {} : { loginHint: hint })).send()
      })
    })
  }
  signInRoute('/connections/google/start', (user, opts) => consentUrl(k.sync.google, user, opts))
  signInRoute('/connections/microsoft/start', (user, opts) => graphConsentUrl(k.sync.graph, user, opts))

  app.get('/connections/google/callback', async (request, reply) => {
    const q = request.query as Record<string, unknown>
    const str = (v: unknown) => typeof v === 'string' ? v : undefined
    return acting(request, reply, null, async () => {
      const result = await completeConsent(k.sync.google, web.session(request).user, { code: str(q.code), state: str(q.state), error: str(q.error) })
      return done(reply, result.reconnected ? 'reconnected' : 'connected', result.connection.id)
    })
  })

  app.post('/connections/google/workspace', async (request, reply) => acting(request, reply, null, async () => {
    const result = await connectDelegated(k.sync.google, web.session(request).user)
    return done(reply, result.reconnected ? 'reconnected' : 'connected', result.connection.id)
  }))

  app.post('/connections/exchange', async (request, reply) => {
    const f = web.form(request)
    const { password: _p, token: _t, ...typed } = f
    return acting(request, reply, null, async () => {
      const result = await connectExchange(k.sync.exchange, web.session(request).user, { account: f.account, username: f.username, password: f.password, token: f.token })
      return done(reply, result.reconnected ? 'exchange-reconnected' : 'exchange-connected', result.connection.id)
    }, { exchange: 'new', ...typed })
  })

  app.get('/connections/microsoft/callback', async (request, reply) => {
    const q = request.query as Record<string, unknown>
    const str = (v: unknown) => typeof v === 'string' ? v : undefined
    return acting(request, reply, null, async () => {
      const result = await completeGraphConsent(k.sync.graph, web.session(request).user, { code: str(q.code), state: str(q.state), error: str(q.error), error_description: str(q.error_description) })
      return done(reply, result.reconnected ? 'reconnected' : 'connected', result.connection.id)
    })
  })

  app.post('/connections/microsoft/organisation', async (request, reply) => acting(request, reply, null, async () => {
    const result = await connectGraphOrganisation(k.sync.graph, web.session(request).user)
    return done(reply, result.reconnected ? 'reconnected' : 'connected', result.connection.id)
  }))

  app.post('/connections/:id/sync', async (request, reply) => {
    const id = idParam(request)
    return acting(request, reply, id, async () => {
      await requestSync(k.db, k.sync.jobs, web.session(request).user, id)
      return done(reply, 'queued', id)
    })
  })

  app.post('/connections/:id/since', async (request, reply) => {
    const id = idParam(request)
    const f = web.form(request)
    return acting(request, reply, id, async () => {
      await syncSince(k.db, web.session(request).user, id, f.since ?? '')
      await k.sync.jobs.request(id)
      return done(reply, 'since', id)
    }, { since: f.since ?? '' })
  })

  app.post('/connections/:id/options', async (request, reply) => {
    const id = idParam(request)
    const f = web.form(request)
    return acting(request, reply, id, async () => {
      await saveOptions(k.db, k.sync.jobs, web.session(request).user, id, optionsInput(f))
      return done(reply, 'saved', id)
    }, f)
  })

  app.post('/connections/:id/disconnect', async (request, reply) => {
    const id = idParam(request)
    await disconnect(k.sync.engine, web.session(request).user, id, { removeContacts: web.form(request).removeContacts === 'on' })
    return done(reply, 'disconnected')
  })
}
