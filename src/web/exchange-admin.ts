import type { DomainError } from '../domain/errors.ts'
import { EWS_VERSIONS } from '../sync/ews/client.ts'
import { EWS_AUTH, EXCHANGE_MODES, type ExchangeIntegration, type ExchangeIntegrationInput } from '../sync/ews/integration.ts'
import type { RolloutStatus } from '../sync/ews/service-mode.ts'
import type { TestAnswer } from '../sync/ews/setup.ts'
import { html, type Html } from './html.ts'
import { csrfField, when } from './layout.ts'
import { t, type MessageId } from './messages.ts'

/**
 * Admin → Integrations, the Exchange card: EWS URL (or Autodiscover from an
 * e-mail address), version, authentication, per-user logins or one service
 * account with ApplicationImpersonation, the switch, and "Test connection".
 * One form with three buttons (save, find, test): a test or a search uses
 * what is typed, saved or not. Passwords are write-only: never shown back,
 * an empty field keeps the stored one.
 */
export type ExchangeForm = Record<string, string>

export const EXCHANGE_FIELD_LABELS: Record<string, MessageId> = {
  ewsUrl: 'exchange.ewsUrl', autodiscoverEmail: 'exchange.autodiscoverEmail', version: 'exchange.version', auth: 'exchange.auth', mode: 'exchange.mode',
  serviceUsername: 'exchange.serviceUsername', servicePassword: 'exchange.servicePassword',
  testMailbox: 'exchange.testMailbox', testUsername: 'exchange.testUsername', testPassword: 'exchange.testPassword', testToken: 'exchange.token'
}

/** The fields that are never shown back. */
const SECRET_FIELDS = ['servicePassword', 'testPassword', 'testToken']
export const withoutSecrets = (f: ExchangeForm): ExchangeForm => Object.fromEntries(Object.entries(f).filter(([k]) => !SECRET_FIELDS.includes(k)))

export const formOfIntegration = (x: ExchangeIntegration | null): ExchangeForm => ({
  enabled: x === null || x.enabled ? '1' : '', ewsUrl: x?.ewsUrl ?? '', version: x?.version ?? 'Exchange2013_SP1', auth: x?.auth ?? 'ntlm',
  mode: x?.mode ?? 'user', serviceUsername: x?.serviceAccount?.username ?? ''
})

const oneOf = <T extends string>(list: readonly T[], v: string | undefined): T | undefined => list.includes(v as T) ? v as T : undefined

/** The settings a posted form asks for (the domain checks them). */
export function inputOfForm (f: ExchangeForm): ExchangeIntegrationInput {
  return {
    enabled: f.enabled === '1',
    ewsUrl: f.ewsUrl ?? '',
    // an unknown value is left for the domain to refuse by name
    version: (oneOf(EWS_VERSIONS, f.version) ?? f.version) as ExchangeIntegration['version'],
    auth: (oneOf(EWS_AUTH, f.auth) ?? f.auth) as ExchangeIntegration['auth'],
    mode: (oneOf(EXCHANGE_MODES, f.mode) ?? f.mode) as ExchangeIntegration['mode'],
    serviceUsername: f.serviceUsername ?? '',
    servicePassword: f.servicePassword ?? ''
  }
}

/** Who Autodiscover signs in as: the typed service account, else the stored one (the EWS URL may still be empty). */
export function discoveryLogin (stored: ExchangeIntegration | null, f: ExchangeForm): Pick<ExchangeIntegration, 'auth' | 'serviceAccount'> {
  const username = (f.serviceUsername ?? '').trim()
  const typed = username !== '' && (f.servicePassword ?? '') !== '' ? { username, password: f.servicePassword! } : null
  const kept = stored?.serviceAccount != null && (username === '' || username === stored.serviceAccount.username) ? stored.serviceAccount : null
  return { auth: oneOf(EWS_AUTH, f.auth) ?? stored?.auth ?? 'basic', serviceAccount: typed ?? kept }
}

export function testResultText (a: TestAnswer): string {
  const result = t(`exchange.result.${a.result}`, { version: a.serverVersion ?? '', mailbox: a.mailbox, url: a.ewsUrl, reason: a.message })
  return a.discovered ? t('exchange.result.discovered', { url: a.ewsUrl, result }) : result
}

/** Where the service-account rollout is: running with its counts, done, or stopped by the service account's refused login. */
export function rolloutText (r: RolloutStatus, zone: string): string {
  const counts = { done: r.done, total: r.total, on: r.on, refused: r.refused, stopped: r.stopped }
  if (r.state === 'running') return t('exchange.rollout.running', counts)
  if (r.state === 'failed') return t('exchange.rollout.failed', { ...counts, reason: r.reason ?? '' })
  return t('exchange.rollout.done', { ...counts, when: when(new Date(r.finishedAt ?? r.startedAt), zone) })
}

export function exchangeCard (o: { csrf: string; stored: ExchangeIntegration | null; rollout?: RolloutStatus | null; zone?: string; form: ExchangeForm; error?: DomainError; result?: { ok: boolean; text: string } }): Html {
  const f = o.form
  const bad = (name: string) => o.error?.field === name ? html` aria-invalid="true" aria-describedby="form-error"` : ''
  const text = (name: string, label: MessageId, opts: { type?: string; hint?: string; attrs?: Html } = {}) => html`<div class="field"><label for="x-${name}">${t(label)}</label>
    <input type="${opts.type ?? 'text'}" id="x-${name}" name="${name}" value="${SECRET_FIELDS.includes(name) ? '' : f[name] ?? ''}"${bad(name)}${opts.hint === undefined ? '' : html` aria-describedby="x-${name}-hint"`}${opts.attrs ?? ''}>
    ${opts.hint === undefined ? '' : html`<span class="muted" id="x-${name}-hint">${opts.hint}</span>`}</div>`
  const select = (name: string, label: MessageId, options: readonly string[], labelOf: (v: string) => string) => html`<div class="field"><label for="x-${name}">${t(label)}</label>
    <select id="x-${name}" name="${name}"${bad(name)}>${options.map(v => html`<option value="${v}"${f[name] === v ? html` selected` : ''}>${labelOf(v)}</option>`)}</select></div>`
  const radio = (value: string) => html`<label class="check"><input type="radio" name="mode" value="${value}"${f.mode === value ? html` checked` : ''}> ${t(`exchange.mode.${value as 'user' | 'service'}`)}</label>`
  const stored = o.stored?.serviceAccount != null
  return html`<section class="card" aria-labelledby="exchange-h" id="exchange"><h2 id="exchange-h">${t('admin.exchange')}</h2>
    <p>${t('exchange.admin.text')}</p>
    ${o.rollout == null || o.stored?.mode !== 'service' ? '' : html`<p class="${o.rollout.state === 'failed' ? 'badge bad' : o.rollout.state === 'running' ? 'badge wait' : 'badge good'}" role="status" id="exchange-rollout">${rolloutText(o.rollout, o.zone ?? 'UTC')}</p>`}
    ${o.result === undefined ? '' : html`<p class="${o.result.ok ? 'badge good' : 'badge bad'}" role="status" id="exchange-result"><span aria-hidden="true">${o.result.ok ? '✓' : '✗'}</span> ${o.result.text}</p>`}
    <form method="post" action="/admin/integrations/exchange" class="stack">${csrfField(o.csrf)}
      <label class="check"><input type="checkbox" id="x-enabled" name="enabled" value="1"${f.enabled === '1' ? html` checked` : ''}> ${t('exchange.admin.enabled')}</label>
      ${text('ewsUrl', 'exchange.ewsUrl', { type: 'url', hint: `${t('exchange.ewsUrlHint')} ${t('exchange.ewsUrlAuto')}`, attrs: html` placeholder="https://mail.example.com/EWS/Exchange.asmx" spellcheck="false"` })}
      <div class="row">
        ${select('version', 'exchange.version', EWS_VERSIONS, v => v)}
        ${select('auth', 'exchange.auth', EWS_AUTH, v => t(`exchange.auth.${v as 'basic' | 'ntlm' | 'bearer'}`))}
      </div>
      <fieldset><legend>${t('exchange.mode')}</legend>${EXCHANGE_MODES.map(radio)}
        ${text('serviceUsername', 'exchange.serviceUsername', { attrs: html` autocomplete="off" spellcheck="false" autocapitalize="none"` })}
        ${text('servicePassword', 'exchange.servicePassword', { type: 'password', hint: stored ? t('exchange.passwordStored') : t('exchange.passwordMissing'), attrs: html` autocomplete="new-password"` })}
      </fieldset>
      <div><button type="submit" name="action" value="save">${t('common.save')}</button></div>
      <div class="row">
        ${text('autodiscoverEmail', 'exchange.autodiscoverEmail', { type: 'email', hint: t('exchange.autodiscoverHint'), attrs: html` autocomplete="off" spellcheck="false"` })}
        <div><button type="submit" name="action" value="discover" class="secondary">${t('exchange.discover')}</button></div>
      </div>
      <fieldset><legend>${t('exchange.testHeading')}</legend>
        <p class="muted">${t('exchange.testText')}</p>
        ${text('testMailbox', 'exchange.testMailbox', { type: 'email', attrs: html` autocomplete="off" spellcheck="false"` })}
        <div class="row">
          ${text('testUsername', 'exchange.testUsername', { hint: t('exchange.testLoginHint'), attrs: html` autocomplete="off" spellcheck="false" autocapitalize="none"` })}
          ${text('testPassword', 'exchange.testPassword', { type: 'password', attrs: html` autocomplete="new-password"` })}
        </div>
        <div><button type="submit" name="action" value="test" class="secondary">${t('exchange.test')}</button></div>
      </fieldset>
    </form>
  </section>`
}
