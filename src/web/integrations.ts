import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { DomainError } from '../domain/errors.ts'
import { orgConnections } from '../sync/connections.ts'
import { callbackUrl } from '../sync/google/consent.ts'
import { loadGoogleIntegration, saveGoogleIntegration } from '../sync/google/integration.ts'
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
 * an empty field keeps what is stored.
 */
type Form = Record<string, string>

const FIELD_LABELS: Record<string, MessageId> = {
  clientId: 'admin.clientId', clientSecret: 'admin.clientSecret', applicationName: 'admin.applicationName',
  pushAddress: 'admin.pushAddress', serviceAccountJson: 'admin.serviceAccount', delegationDomain: 'admin.delegationDomain'
}

export function integrationRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  async function show (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: DomainError; form?: Form } = {}, status = 200) {
    const s = requireAdminSession(web, request)
    const zone = s.user.timezone
    const [google, connections] = await Promise.all([loadGoogleIntegration(k.db, k.secrets, s.user.org_id, k.config.google), orgConnections(k.db, s.user)])
    const f: Form = extra.form ?? {
      enabled: google === null || google.enabled ? '1' : '', clientId: google?.clientId ?? '', applicationName: google?.applicationName ?? 'Kalends',
      pushAddress: google?.pushAddress ?? '', delegationDomain: google?.delegationDomain ?? '', delegateContacts: google?.delegateContacts === true ? '1' : ''
    }
    const err = extra.error
    const bad = (name: string) => err?.field === name ? html` aria-invalid="true" aria-describedby="form-error"` : ''
    const text = (name: string, label: MessageId, opts: { type?: string; hint?: string; attrs?: Html } = {}) => html`<div class="field"><label for="g-${name}">${t(label)}</label>
      <input type="${opts.type ?? 'text'}" id="g-${name}" name="${name}" value="${f[name] ?? ''}"${bad(name)}${opts.hint === undefined ? '' : html` aria-describedby="g-${name}-hint"`}${opts.attrs ?? ''}>
      ${opts.hint === undefined ? '' : html`<span class="muted" id="g-${name}-hint">${opts.hint}</span>`}</div>`
    const coming = (title: string, body: string) => html`<section class="card"><h2>${title}</h2><p>${body}</p><p><strong>${t('admin.notAvailable')}</strong></p></section>`
    return web.render(request, reply, {
      title: t('admin.integrations'), current: '/admin/integrations', notice: extra.notice ?? null,
      error: err === undefined ? null : reasonOf(err, FIELD_LABELS),
      body: html`${adminTabs('/admin/integrations')}<p>${t('admin.integrationsIntro')}</p>
      <section class="card" aria-labelledby="google-h"><h2 id="google-h">${t('admin.google')}</h2>
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
      ${coming(t('admin.exchange'), t('admin.exchangeText'))}${coming(t('admin.m365'), t('admin.m365Text'))}
      <section aria-labelledby="org-conn-h"><h2 id="org-conn-h">${t('admin.connections')}</h2>
        ${connections.length === 0
          ? html`<p>${t('admin.noConnections')}</p>`
          : html`<div class="table-wrap"><table class="list"><thead><tr><th scope="col">${t('admin.owner')}</th><th scope="col">${t('admin.account')}</th><th scope="col">${t('admin.state')}</th><th scope="col">${t('conn.lastSuccess')}</th></tr></thead><tbody>
            ${connections.map(c => html`<tr><td>${c.name} <span class="muted">${c.login}</span></td><td data-label="${t('admin.account')}">${t(`conn.provider.${c.provider}`)}: ${c.account}</td>
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
}
