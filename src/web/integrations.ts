import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { DomainError } from '../domain/errors.ts'
import { orgConnections } from '../sync/connections.ts'
import { callbackUrl } from '../sync/google/consent.ts'
import { loadGoogleIntegration, saveGoogleIntegration } from '../sync/google/integration.ts'
import { loadExchangeIntegration, mergeExchangeIntegration, saveExchangeIntegration } from '../sync/ews/integration.ts'
import { rolloutStatus } from '../sync/ews/service-mode.ts'
import { discoverForAdmin, testExchange } from '../sync/ews/setup.ts'
import { discoveryLogin, EXCHANGE_FIELD_LABELS, exchangeCard, formOfIntegration, inputOfForm, testResultText, withoutSecrets, type ExchangeForm } from './exchange-admin.ts'
import { graphCallbackUrl, testGraphApp } from '../sync/graph/consent.ts'
import { loadGraphIntegration, mergeGraphIntegration, saveGraphIntegration, type GraphIntegration, type GraphIntegrationInput } from '../sync/graph/integration.ts'
import { adminTabs, requireAdminSession } from './admin.ts'
import { html, type Html } from './html.ts'
import { reasonOf, saving } from './items.ts'
import { copyField, csrfField, when } from './layout.ts'
import { t, type MessageId } from './messages.ts'
import type { Web } from './plugin.ts'

/**
 * Admin → Integrations: the organisation's Google OAuth client, push
 * address and Workspace service account (src/sync/google/integration.ts),
 * and every connection of the organisation. The client secret and the
 * service account key are write-only: sealed at rest, never shown back, and
 * an empty field keeps what is stored. Microsoft 365 likewise: the Azure app
 * registration (src/sync/graph/integration.ts), its secret or certificate
 * write-only.
 */
type Form = Record<string, string>

const FIELD_LABELS: Record<string, MessageId> = {
  clientId: 'admin.clientId', clientSecret: 'admin.clientSecret', applicationName: 'admin.applicationName',
  pushAddress: 'admin.pushAddress', serviceAccountJson: 'admin.serviceAccount', delegationDomain: 'admin.delegationDomain',
  tenant: 'ms.admin.tenant', certificatePem: 'ms.admin.certificate'
}

/** The Microsoft 365 form's fields as stored (the secret and certificate are never shown back). */
const graphForm = (m: GraphIntegration | null): Form => ({
  enabled: m === null || m.enabled ? '1' : '', tenant: m?.tenant ?? '', clientId: m?.clientId ?? '', pushAddress: m?.pushAddress ?? '', orgWide: m?.orgWide === true ? '1' : ''
})

/** The settings a posted Microsoft 365 form asks for (the domain checks them; empty secret and certificate keep the stored ones). */
const graphInputOf = (f: Form): GraphIntegrationInput => ({
  enabled: f.enabled === '1',
  tenant: f.tenant ?? '',
  clientId: f.clientId ?? '',
  clientSecret: f.clientSecret ?? '',
  certificatePem: f.removeCertificate === '1' ? null : (f.certificatePem ?? ''),
  pushAddress: f.pushAddress ?? '',
  orgWide: f.orgWide === '1'
})

export function integrationRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  type Exchange = { form: ExchangeForm; error?: DomainError; result?: { ok: boolean; text: string } }
  async function show (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: DomainError; form?: Form; exchange?: Exchange; microsoftForm?: Form; microsoftResult?: { ok: boolean; text: string } } = {}, status = 200) {
    const s = requireAdminSession(web, request)
    const zone = s.user.timezone
    const [google, exchange, microsoft, connections, rollout] = await Promise.all([
      loadGoogleIntegration(k.db, k.secrets, s.user.org_id, k.config.google), loadExchangeIntegration(k.db, k.secrets, s.user.org_id),
      loadGraphIntegration(k.db, k.secrets, s.user.org_id), orgConnections(k.db, s.user), rolloutStatus(k.db, s.user.org_id)
    ])
    const m: Form = extra.microsoftForm ?? graphForm(microsoft)
    const f: Form = extra.form ?? {
      enabled: google === null || google.enabled ? '1' : '', clientId: google?.clientId ?? '', applicationName: google?.applicationName ?? 'Kalends',
      pushAddress: google?.pushAddress ?? '', delegationDomain: google?.delegationDomain ?? '', delegateContacts: google?.delegateContacts === true ? '1' : ''
    }
    const err = extra.error
    const bad = (name: string) => err?.field === name ? html` aria-invalid="true" aria-describedby="form-error"` : ''
    const text = (name: string, label: MessageId, opts: { type?: string; hint?: string; attrs?: Html } = {}) => html`<div class="field"><label for="g-${name}">${t(label)}</label>
      <input type="${opts.type ?? 'text'}" id="g-${name}" name="${name}" value="${f[name] ?? ''}"${bad(name)}${opts.hint === undefined ? '' : html` aria-describedby="g-${name}-hint"`}${opts.attrs ?? ''}>
      ${opts.hint === undefined ? '' : html`<span class="muted" id="g-${name}-hint">${opts.hint}</span>`}</div>`
    const mBad = (name: string) => extra.microsoftForm !== undefined && err?.field === name ? html` aria-invalid="true" aria-describedby="form-error"` : ''
    const mText = (name: string, label: MessageId, opts: { type?: string; hint?: string; attrs?: Html } = {}) => html`<div class="field"><label for="m-${name}">${t(label)}</label>
      <input type="${opts.type ?? 'text'}" id="m-${name}" name="${name}" value="${m[name] ?? ''}"${mBad(name)}${opts.hint === undefined ? '' : html` aria-describedby="m-${name}-hint"`}${opts.attrs ?? ''}>
      ${opts.hint === undefined ? '' : html`<span class="muted" id="m-${name}-hint">${opts.hint}</span>`}</div>`
    // red ones first, then those still waiting, then the green ones
    const order = { error: 0, pending: 1, ok: 2 } as const
    const sorted = [...connections].sort((a, b) => order[a.state] - order[b.state] || a.id - b.id)
    const googleState = google !== null && !google.enabled
      ? html`<p class="badge wait">${t('integr.off')}</p>`
      : google === null || google.clientId === ''
        ? html`<p class="badge bad" role="status">${t('integr.notConfigured')}</p>`
        : html`<p class="badge good" role="status">${t('integr.configured')}</p>`
    return web.render(request, reply, {
      title: t('admin.integrations'), current: '/admin/integrations', notice: extra.notice ?? null,
      error: err !== undefined ? reasonOf(err, FIELD_LABELS) : extra.exchange?.error === undefined ? null : reasonOf(extra.exchange.error, EXCHANGE_FIELD_LABELS),
      body: html`${adminTabs('/admin/integrations')}<p>${t('admin.integrationsIntro')}</p>
      <section class="card" aria-labelledby="google-h"><h2 id="google-h">${t('admin.google')}</h2>
        ${googleState}
        <p>${t('admin.googleText')}</p>
        <div class="block">${copyField('g-redirect', t('admin.redirectUri'), callbackUrl(k.config.publicUrl))}</div>
        <form method="post" action="/admin/integrations/google" class="stack">${csrfField(s.csrf)}
          <label class="check"><input type="checkbox" id="g-enabled" name="enabled" value="1"${f.enabled === '1' ? html` checked` : ''}> ${t('admin.googleEnabled')}</label>
          ${text('clientId', 'admin.clientId', { attrs: html` autocomplete="off" spellcheck="false"` })}
          ${text('clientSecret', 'admin.clientSecret', { type: 'password', hint: google?.clientSecret ? t('admin.secretStored') : t('admin.secretMissing'), attrs: html` autocomplete="new-password"` })}
          ${text('applicationName', 'admin.applicationName')}
          ${text('pushAddress', 'admin.pushAddress', { type: 'url', hint: t('admin.pushHint'), attrs: html` placeholder="https://calendar.example.com" spellcheck="false"` })}
          <fieldset><legend>${t('admin.workspace')}</legend>
            <p class="muted">${t('admin.workspaceText')}</p>
            <div class="field"><label for="g-serviceAccountJson">${t('admin.serviceAccount')}</label>
              <textarea id="g-serviceAccountJson" name="serviceAccountJson" rows="4" spellcheck="false" autocomplete="off" aria-describedby="g-sa-hint"${bad('serviceAccountJson')}></textarea>
              <span class="muted" id="g-sa-hint">${google?.serviceAccount == null ? t('admin.serviceAccountMissing') : t('admin.serviceAccountStored', { email: google.serviceAccount.clientEmail })}</span></div>
            ${google?.serviceAccount == null ? '' : html`<label class="check"><input type="checkbox" name="removeServiceAccount" value="1"> ${t('admin.serviceAccountRemove')}</label>`}
            ${text('delegationDomain', 'admin.delegationDomain', { hint: t('admin.delegationHint'), attrs: html` spellcheck="false" autocapitalize="none"` })}
            <label class="check"><input type="checkbox" name="delegateContacts" value="1"${f.delegateContacts === '1' ? html` checked` : ''}> ${t('admin.delegateContacts')}</label>
          </fieldset>
          <div><button type="submit">${t('common.save')}</button></div>
        </form>
      </section>
      ${exchangeCard({ csrf: s.csrf, stored: exchange, rollout, zone, form: extra.exchange?.form ?? formOfIntegration(exchange), error: extra.exchange?.error, result: extra.exchange?.result })}
      <section class="card" aria-labelledby="m365-h"><h2 id="m365-h">${t('admin.m365')}</h2>
        <p>${t('ms.admin.text')}</p>
        ${extra.microsoftResult === undefined ? '' : html`<p class="${extra.microsoftResult.ok ? 'badge good' : 'badge bad'}" role="status" id="m365-result"><span aria-hidden="true">${extra.microsoftResult.ok ? '✓' : '✗'}</span> ${extra.microsoftResult.text}</p>`}
        <div class="block">${copyField('m-redirect', t('ms.admin.redirectUri'), graphCallbackUrl(k.config.publicUrl))}</div>
        <form method="post" action="/admin/integrations/microsoft" class="stack">${csrfField(s.csrf)}
          <label class="check"><input type="checkbox" id="m-enabled" name="enabled" value="1"${m.enabled === '1' ? html` checked` : ''}> ${t('ms.admin.enabled')}</label>
          ${mText('tenant', 'ms.admin.tenant', { hint: t('ms.admin.tenantHint'), attrs: html` spellcheck="false" autocapitalize="none"` })}
          ${mText('clientId', 'ms.admin.clientId', { attrs: html` autocomplete="off" spellcheck="false"` })}
          ${mText('clientSecret', 'ms.admin.clientSecret', { type: 'password', hint: microsoft?.clientSecret ? t('admin.secretStored') : t('admin.secretMissing'), attrs: html` autocomplete="new-password"` })}
          <div class="field"><label for="m-certificatePem">${t('ms.admin.certificate')}</label>
            <textarea id="m-certificatePem" name="certificatePem" rows="3" spellcheck="false" autocomplete="off" aria-describedby="m-cert-help m-cert-hint"${mBad('certificatePem')}></textarea>
            <span class="muted" id="m-cert-help">${t('mscert.hint')}</span>
            <span class="muted" id="m-cert-hint">${microsoft?.certificate == null ? t('ms.admin.certificateMissing') : t('ms.admin.certificateStored', { subject: microsoft.certificate.subject })}</span></div>
          <div class="field"><label for="m-certificateFile">${t('mscert.file')}</label>
            <input type="file" id="m-certificateFile" accept=".pem,.crt,.cer,.key" multiple data-fill="m-certificatePem"></div>
          ${microsoft?.certificate == null ? '' : html`<label class="check"><input type="checkbox" name="removeCertificate" value="1"> ${t('ms.admin.certificateRemove')}</label>`}
          ${mText('pushAddress', 'admin.pushAddress', { type: 'url', hint: t('ms.admin.pushHint'), attrs: html` placeholder="https://calendar.example.com" spellcheck="false"` })}
          <label class="check"><input type="checkbox" id="m-orgWide" name="orgWide" value="1"${m.orgWide === '1' ? html` checked` : ''}> ${t('ms.admin.orgWide')}</label>
          <div><button type="submit" name="action" value="save">${t('common.save')}</button></div>
          <fieldset><legend>${t('mscert.testHeading')}</legend>
            <p class="muted">${t('mscert.testText')}</p>
            <div><button type="submit" name="action" value="test" class="secondary">${t('mscert.test')}</button></div>
          </fieldset>
        </form>
      </section>
      <section aria-labelledby="org-conn-h"><h2 id="org-conn-h">${t('admin.connections')}</h2>
        ${connections.length === 0
          ? html`<p>${t('admin.noConnections')}</p>`
          : html`<div class="table-wrap"><table class="list"><thead><tr><th scope="col">${t('admin.owner')}</th><th scope="col">${t('admin.account')}</th><th scope="col">${t('admin.state')}</th><th scope="col">${t('conn.lastSuccess')}</th></tr></thead><tbody>
            ${sorted.map(c => html`<tr${c.state === 'error' ? html` class="bad"` : ''}><td>${c.name} <span class="muted">${c.login}</span></td><td data-label="${t('admin.account')}">${t(`conn.provider.${c.provider}`)}: ${c.account}</td>
              <td data-label="${t('admin.state')}">${c.state === 'ok' ? t('conn.good', { when: when(c.last_success_at ?? c.state_at, zone) }) : c.state === 'error' ? t('conn.bad', { reason: c.state_reason ?? t('conn.failed'), when: when(c.state_at, zone) }) : t('conn.pending', { reason: c.state_reason ?? t('conn.pendingFirst'), when: when(c.state_at, zone) })}</td>
              <td data-label="${t('conn.lastSuccess')}">${when(c.last_success_at, zone)}</td></tr>`)}
            </tbody></table></div>`}
      </section>`
    }, status)
  }

  app.get('/admin/integrations', async (request, reply) => show(request, reply))

  app.post('/admin/integrations/google', async (request, reply) => {
    const s = requireAdminSession(web, request)
    const f = web.form(request)
    const { clientSecret: _s, serviceAccountJson: _j, ...typed } = f
    return saving(async () => {
      // an empty secret keeps the stored one; with none stored, the server-wide default stays in force (not copied in)
      await saveGoogleIntegration(k.db, k.secrets, s.user.org_id, {
        enabled: f.enabled === '1',
        clientId: f.clientId ?? '',
        clientSecret: f.clientSecret ?? '',
        applicationName: f.applicationName ?? '',
        pushAddress: f.pushAddress ?? '',
        delegationDomain: f.delegationDomain ?? '',
        delegateContacts: f.delegateContacts === '1',
        serviceAccountJson: f.removeServiceAccount === '1' ? null : (f.serviceAccountJson ?? '')
      })
      return show(request, reply, { notice: t('admin.googleSaved') })
    }, err => show(request, reply, { error: err, form: typed }, err.status))
  })

  /** Exchange: save, find the EWS URL, or test what is typed (saved or not). */
  app.post('/admin/integrations/exchange', async (request, reply) => {
    const s = requireAdminSession(web, request)
    const f = web.form(request)
    const form = withoutSecrets(f)
    const stored = await loadExchangeIntegration(k.db, k.secrets, s.user.org_id)
    return saving(async () => {
      if (f.action === 'discover') {
        const found = await discoverForAdmin(k.sync.exchange, discoveryLogin(stored, f), f.autodiscoverEmail ?? '', { username: f.testUsername, password: f.testPassword })
        return show(request, reply, { exchange: { form: { ...form, ewsUrl: found.ewsUrl } }, notice: t('exchange.discovered', { url: found.ewsUrl, from: found.from }) })
      }
      if (f.action === 'test') {
        const answer = await testExchange(k.sync.exchange, mergeExchangeIntegration(stored, inputOfForm(f)), { mailbox: f.testMailbox, username: f.testUsername, password: f.testPassword }, s.user.email)
        return show(request, reply, { exchange: { form, result: { ok: answer.result === 'ok', text: testResultText(answer) } } })
      }
      await saveExchangeIntegration(k.db, k.secrets, s.user.org_id, inputOfForm(f))
      // every user's mailbox in service-account mode (or stopped out of it): a long job, its progress shown on the card
      void k.sync.rollouts.start(s.user.org_id)
      return show(request, reply, { exchange: { form: formOfIntegration(await loadExchangeIntegration(k.db, k.secrets, s.user.org_id)) }, notice: t('exchange.saved') })
    }, err => show(request, reply, { exchange: { form, error: err } }, err.status))
  })

  /** Microsoft 365: save, or test what is typed over what is stored (nothing saved). */
  app.post('/admin/integrations/microsoft', async (request, reply) => {
    const s = requireAdminSession(web, request)
    const f = web.form(request)
    const { clientSecret: _s, certificatePem: _c, ...typed } = f
    return saving(async () => {
      if (f.action === 'test') {
        const integration = mergeGraphIntegration(await loadGraphIntegration(k.db, k.secrets, s.user.org_id), graphInputOf(f))
        const answer = await testGraphApp(k.sync.graph, integration, s.user.email ?? '')
        const ok = answer.result === 'ok' || (answer.result === 'credentialsOnly' && !integration.orgWide)
        return show(request, reply, { microsoftForm: typed, microsoftResult: { ok, text: t(`mscert.result.${answer.result}`, { mailbox: answer.mailbox, reason: answer.reason }) } })
      }
      await saveGraphIntegration(k.db, k.secrets, s.user.org_id, graphInputOf(f))
      return show(request, reply, { notice: t('ms.admin.saved') })
    }, err => show(request, reply, { error: err, microsoftForm: typed }, err.status))
  })
}
