import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createAppPassword, listAppPasswords, revokeAppPassword } from '../auth/app-passwords.ts'
import { DomainError } from '../domain/errors.ts'
import { html, type Html } from './html.ts'
import { copyField, csrfField, postButton, when } from './layout.ts'
import { t, type MessageId } from './messages.ts'
import type { Web } from './plugin.ts'
import { idParam } from './params.ts'
import { reasonOf } from './items.ts'
import { publicUrlProblem } from './setup.ts'

/** My devices: the CalDAV address, steps per platform, app passwords, and the Apple profile. */
export function caldavAddress (publicUrl: string, login: string) {
  const u = new URL(publicUrl)
  const ssl = u.protocol === 'https:'
  const port = u.port === '' ? (ssl ? 443 : 80) : Number(u.port)
  return {
    url: `${publicUrl}/`,
    host: u.hostname,
    hostWithPort: u.port === '' ? u.hostname : `${u.hostname}:${u.port}`,
    port,
    ssl,
    principalPath: `/dav/principals/${encodeURIComponent(login)}/`,
    principalUrl: `${publicUrl}/dav/principals/${encodeURIComponent(login)}/`
  }
}

const xml = (s: string) => s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)

/** An unsigned configuration profile with one com.apple.caldav.account payload; iOS/macOS ask for the password. */
export function mobileconfig (publicUrl: string, login: string, name: string, texts = { name: `Kalends calendars of ${login}`, description: 'Adds your Kalends calendars and task lists over CalDAV. You will be asked for an app password.' }): string {
  const a = caldavAddress(publicUrl, login)
  const id = a.host.split('.').reverse().join('.')
  const str = (k: string, v: string) => `<key>${k}</key><string>${xml(v)}</string>`
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
<key>PayloadContent</key>
<array>
<dict>
${str('PayloadType', 'com.apple.caldav.account')}
${str('PayloadIdentifier', `${id}.kalends.caldav.${login}`)}
${str('PayloadUUID', randomUUID().toUpperCase())}
<key>PayloadVersion</key><integer>1</integer>
${str('PayloadDisplayName', 'Kalends CalDAV')}
${str('CalDAVAccountDescription', `Kalends (${name})`)}
${str('CalDAVHostName', a.host)}
<key>CalDAVPort</key><integer>${a.port}</integer>
${str('CalDAVPrincipalURL', a.principalUrl)}
${str('CalDAVUsername', login)}
<key>CalDAVUseSSL</key><${a.ssl ? 'true' : 'false'}/>
</dict>
</array>
${str('PayloadType', 'Configuration')}
${str('PayloadIdentifier', `${id}.kalends.${login}`)}
${str('PayloadUUID', randomUUID().toUpperCase())}
<key>PayloadVersion</key><integer>1</integer>
${str('PayloadDisplayName', texts.name)}
${str('PayloadDescription', texts.description)}
<key>PayloadRemovalDisallowed</key><false/>
</dict>
</plist>
`
}

function steps (id: MessageId, vars: Record<string, string>): Html {
  return html`<ol>${t(id, vars).split('|').map(s => html`<li>${s}</li>`)}</ol>`
}

export function deviceRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  async function show (request: FastifyRequest, reply: FastifyReply, extra: { created?: { name: string; password: string }; notice?: string; error?: string } = {}, status = 200) {
    const s = web.session(request)
    const user = s.user
    const a = caldavAddress(k.config.publicUrl, user.login)
    const passwords = (await listAppPasswords(k.db, user)).reverse()
    const vars = { host: a.hostWithPort, login: user.login, url: a.url }
    return web.render(request, reply, {
      title: t('devices.title'), current: '/devices', notice: extra.notice ?? null, error: extra.error ?? null,
      body: html`
      ${extra.created === undefined
        ? ''
        : html`<section class="secret" aria-labelledby="created-h"><h2 id="created-h">${t('devices.created', { name: extra.created.name })}</h2>
          <p>${t('devices.createdOnce')}</p><p class="shown-once" aria-hidden="true">${extra.created.password}</p>${copyField('app-password', t('devices.appPassword'), extra.created.password)}</section>`}
      <p>${t('devices.intro')}</p>
      <section class="card" aria-labelledby="address-h"><h2 id="address-h">${t('devices.connect')}</h2>
        ${publicUrlProblem(k.config.publicUrl) === 'loopback' ? html`<p class="warning" role="note" id="loopback-warning">${t('devices.loopback', { host: a.host })}</p>` : ''}
        ${copyField('caldav-url', t('devices.address'), a.url)}
        ${copyField('caldav-login', t('devices.login'), user.login)}
        ${copyField('caldav-principal', t('devices.principal'), a.principalUrl)}
        <p class="muted">${t('devices.password')}</p>
      </section>
      <section aria-labelledby="new-h"><h2 id="new-h">${t('devices.create')}</h2>
        <form method="post" action="/devices/app-passwords" class="inline">${csrfField(s.csrf)}
          <div class="field"><label for="device-name">${t('devices.createName')}</label>
          <input type="text" id="device-name" name="name" required maxlength="100" aria-describedby="device-name-hint"></div>
          <button type="submit">${t('devices.createSubmit')}</button>
        </form>
        <p class="muted" id="device-name-hint">${t('devices.createHint')}</p>
      </section>
      <section aria-labelledby="list-h"><h2 id="list-h">${t('devices.list')}</h2>
        ${passwords.length === 0
          ? html`<p>${t('devices.empty')}</p>`
          : html`<div class="table-wrap"><table class="list"><thead><tr><th scope="col">${t('common.name')}</th><th scope="col">${t('devices.created_at')}</th><th scope="col">${t('devices.lastUsed')}</th><th scope="col">${t('common.actions')}</th></tr></thead><tbody>
            ${passwords.map(p => html`<tr><td>${p.name}</td><td data-label="${t('devices.created_at')}">${when(p.created_at, user.timezone)}</td>
              <td data-label="${t('devices.lastUsed')}">${when(p.last_used_at, user.timezone)} ${p.last_used_ip === null ? '' : t('devices.lastUsedFrom', { ip: p.last_used_ip })}</td>
              <td>${p.revoked_at === null ? postButton(`/devices/app-passwords/${p.id}/revoke`, s.csrf, t('devices.revoke'), { cls: 'danger', aria: t('devices.revokeLabel', { name: p.name }) }) : t('devices.revoked', { when: when(p.revoked_at, user.timezone) })}</td></tr>`)}
            </tbody></table></div>`}
      </section>
      <section class="card" aria-labelledby="profile-h"><h2 id="profile-h">${t('devices.profile')}</h2>
        <p>${t('devices.profileText')}</p><p><a class="button" href="/devices/kalends.mobileconfig" download>${t('devices.profileDownload')}</a></p></section>
      <h2>${t('devices.steps')}</h2>
      <div class="steps">
        <section aria-labelledby="ios-h"><h3 id="ios-h">${t('devices.ios')}</h3>${steps('devices.iosSteps', vars)}<p id="ios-ssl">${t(a.ssl ? 'devices.iosHttps' : 'devices.iosHttp', { port: a.port })}</p></section>
        <section aria-labelledby="mac-h"><h3 id="mac-h">${t('devices.mac')}</h3>${steps('devices.macSteps', vars)}</section>
        <section aria-labelledby="android-h"><h3 id="android-h">${t('devices.android')}</h3>${steps('devices.androidSteps', vars)}</section>
        <section aria-labelledby="tb-h"><h3 id="tb-h">${t('devices.thunderbird')}</h3>${steps('devices.thunderbirdSteps', vars)}</section>
      </div>`
    }, status)
  }

  app.get('/devices', async (request, reply) => show(request, reply))

  app.post('/devices/app-passwords', async (request, reply) => {
    try {
      const created = await createAppPassword(k.db, web.actor(request), web.form(request).name ?? '')
      return show(request, reply, { created })
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'invalid') return show(request, reply, { error: reasonOf(err, { name: 'devices.createName' }) }, 400)
      throw err
    }
  })

  app.post('/devices/app-passwords/:id/revoke', async (request, reply) => {
    const id = idParam(request)
    const row = (await listAppPasswords(k.db, web.session(request).user)).find(p => p.id === id)
    await revokeAppPassword(k.db, web.actor(request), id)
    k.signIn.forget()
    return show(request, reply, { notice: t('devices.revokedDone', { name: row?.name ?? '' }) })
  })

  app.get('/devices/kalends.mobileconfig', async (request, reply) => {
    const user = web.session(request).user
    return reply.type('application/x-apple-aspen-config').header('content-disposition', 'attachment; filename="kalends.mobileconfig"')
      .send(mobileconfig(k.config.publicUrl, user.login, user.name, { name: t('devices.profileName', { login: user.login }), description: t('devices.profileDescription') }))
  })
}
