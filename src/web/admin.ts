import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { requireAdmin } from '../domain/access.ts'
import { DomainError } from '../domain/errors.ts'
import { getOrg, updateOrg } from '../domain/orgs.ts'
import { createUser, getUser, listUsers, updateUser } from '../domain/users.ts'
import { html } from './html.ts'
import { csrfField, postButton, zoneSelect } from './layout.ts'
import { t } from './messages.ts'
import { idParam } from './params.ts'
import type { Web } from './plugin.ts'
import { reasonOf } from './items.ts'
import { isLang, LANG_NAMES, setLang } from './locale.ts'
import { languageSelect } from './profile.ts'
import { destroySessionsOf } from './sessions.ts'

/** Admin: users (create, edit, disable, reset password) and organisation settings; integrations are in integrations.ts. */

/** The admin pages' tabs. */
export const adminTabs = (current: string) => html`<nav class="toolbar" aria-label="${t('admin.title')}">${[
  ['/admin/users', t('admin.users')], ['/admin/organisation', t('admin.org')], ['/admin/types', t('types.tab')], ['/admin/integrations', t('admin.integrations')], ['/admin/setup', t('admin.setup')]
].map(([href, label]) => html`<a class="button${href === current ? '' : ' secondary'}" href="${href!}"${href === current ? html` aria-current="page"` : ''}>${label!}</a>`)}</nav>`

/** Administrators only; anyone else is refused (403). */
export function requireAdminSession (web: Web, request: FastifyRequest) {
  const s = web.session(request)
  requireAdmin(s.user)
  return s
}

export function adminRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web
  const admin = (request: FastifyRequest) => requireAdminSession(web, request)

  async function users (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: string; form?: Record<string, string> } = {}, status = 200) {
    const s = admin(request)
    const [list, org] = await Promise.all([listUsers(k.db, s.user), getOrg(k.db, s.user)])
    const f = extra.form ?? {}
    return web.render(request, reply, {
      title: t('admin.users'), current: '/admin/users', notice: extra.notice ?? null, error: extra.error ?? null,
      body: html`${adminTabs('/admin/users')}
      <div class="table-wrap"><table class="list"><thead><tr><th scope="col">${t('admin.login')}</th><th scope="col">${t('admin.name')}</th><th scope="col">${t('admin.role')}</th><th scope="col">${t('admin.state')}</th><th scope="col">${t('common.actions')}</th></tr></thead><tbody>
      ${list.map(u => html`<tr><td>${u.login}</td><td data-label="${t('admin.name')}">${u.name}${u.email === null ? '' : html` <span class="muted">${u.email}</span>`}</td>
        <td data-label="${t('admin.role')}">${t(`admin.role.${u.role}`)}</td><td data-label="${t('admin.state')}">${u.disabled ? t('admin.disabled') : t('admin.active')}</td>
        <td><a class="button secondary" href="/admin/users/${u.id}" aria-label="${t('admin.editLabel', { login: u.login })}">${t('admin.edit')}</a>
          ${u.id === s.user.id ? '' : postButton(`/admin/users/${u.id}/${u.disabled ? 'enable' : 'disable'}`, s.csrf, u.disabled ? t('admin.enable') : t('admin.disable'), { cls: u.disabled ? 'secondary' : 'danger', aria: t(u.disabled ? 'admin.enableLabel' : 'admin.disableLabel', { login: u.login }) })}
          <form method="post" action="/admin/users/${u.id}/password" class="inline">${csrfField(s.csrf)}
            ${u.id === s.user.id ? html`<label for="current-pw" class="visually-hidden">${t('admin.currentPassword')}</label>
            <input type="password" id="current-pw" name="currentPassword" autocomplete="current-password" required placeholder="${t('admin.currentPassword')}">` : ''}
            <label for="pw-${u.id}" class="visually-hidden">${t('admin.newPassword', { login: u.login })}</label>
            <input type="password" id="pw-${u.id}" name="password" autocomplete="new-password" minlength="8" required placeholder="${t('admin.newPassword', { login: u.login })}">
            <label class="check"><input type="checkbox" name="revokeCredentials" value="1"> ${t('admin.resetRevoke')}</label>
            <button type="submit" class="secondary">${t('admin.reset')}</button></form></td></tr>`)}
      </tbody></table></div>
      <section class="card" aria-labelledby="new-user-h"><h2 id="new-user-h">${t('admin.newUser')}</h2>
      <form method="post" action="/admin/users" class="stack">${csrfField(s.csrf)}
        <div class="row"><div class="field"><label for="login">${t('admin.login')}</label><input type="text" id="login" name="login" required autocapitalize="none" value="${f.login ?? ''}"></div>
          <div class="field"><label for="name">${t('admin.name')}</label><input type="text" id="name" name="name" value="${f.name ?? ''}"></div></div>
        <div class="row"><div class="field"><label for="email">${t('admin.email')}</label><input type="email" id="email" name="email" value="${f.email ?? ''}"></div>
          <div class="field"><label for="password">${t('admin.password')}</label><input type="password" id="password" name="password" autocomplete="new-password" minlength="8" required></div></div>
        <div class="row"><div class="field"><label for="role">${t('admin.role')}</label><select id="role" name="role"><option value="user">${t('admin.role.user')}</option><option value="admin"${f.role === 'admin' ? html` selected` : ''}>${t('admin.role.admin')}</option></select></div>
          <div class="field"><label for="timezone">${t('admin.timezone')}</label>${zoneSelect('timezone', f.timezone ?? org.defaultTimezone)}</div></div>
        <div><button type="submit">${t('admin.create')}</button></div>
      </form></section>`
    }, status)
  }

  const refusal = (err: unknown): err is DomainError => err instanceof DomainError && ['invalid', 'conflict', 'forbidden'].includes(err.kind)

  app.get('/admin', async (_request, reply) => reply.code(303).header('location', '/admin/users').send())
  app.get('/admin/users', async (request, reply) => users(request, reply))

  app.post('/admin/users', async (request, reply) => {
    const f = web.form(request)
    try {
      const u = await createUser(k.db, web.actor(request), admin(request).user.org_id, {
        login: f.login, name: f.name === '' || f.name === undefined ? f.login : f.name, email: f.email === '' ? null : f.email,
        password: f.password, role: f.role === 'admin' ? 'admin' : 'user', timezone: f.timezone
      })
      return users(request, reply, { notice: t('admin.created', { login: u.login }) })
    } catch (err) {
      if (refusal(err)) return users(request, reply, { error: reasonOf(err), form: { ...f, password: '' } }, err.status)
      throw err
    }
  })

  for (const action of ['disable', 'enable'] as const) {
    app.post(`/admin/users/:id/${action}`, async (request, reply) => {
      admin(request)
      const id = idParam(request)
      await getUser(k.db, web.session(request).user, id)
      const u = await updateUser(k.db, web.actor(request), id, { disabled: action === 'disable' })
      k.signIn.forget()
      if (action === 'disable') await destroySessionsOf(k.db, id)
      return users(request, reply, { notice: t('admin.updated', { login: u.login }) })
    })
  }

  app.post('/admin/users/:id/password', async (request, reply) => {
    const s = admin(request)
    const id = idParam(request)
    await getUser(k.db, s.user, id)
    const f = web.form(request)
    try {
      const u = await updateUser(k.db, web.actor(request), id, { password: f.password ?? '', currentPassword: f.currentPassword, revokeCredentials: f.revokeCredentials === '1' }, { keepSession: s.idHash, confirmCurrent: (u, secret) => k.signIn.confirm(u, secret, request) })
      k.signIn.forget()
      return users(request, reply, { notice: id === s.user.id ? t('admin.ownResetDone') : t('admin.resetDone', { login: u.login }) })
    } catch (err) {
      if (refusal(err)) return users(request, reply, { error: reasonOf(err) }, err.status)
      throw err
    }
  })

  async function editPage (request: FastifyRequest, reply: FastifyReply, id: number, extra: { error?: string; invalid?: string; form?: Record<string, string> } = {}, status = 200) {
    const s = admin(request)
    const u = await getUser(k.db, s.user, id)
    const org = await getOrg(k.db, s.user)
    const f = extra.form ?? {
      name: u.name, email: u.email ?? '', role: u.role, timezone: u.timezone, language: u.language ?? '',
      canChangePlannedDates: u.can_change_planned_dates ? '1' : '', disabled: u.disabled ? '1' : ''
    }
    const bad = (name: string) => extra.invalid === name ? html` aria-invalid="true" aria-describedby="form-error"` : ''
    const orgLang = isLang(org.defaultLanguage) ? LANG_NAMES[org.defaultLanguage] : null
    return web.render(request, reply, {
      title: t('admin.editUser', { login: u.login }), current: '/admin/users', error: extra.error ?? null,
      body: html`${adminTabs('/admin/users')}
      <form method="post" action="/admin/users/${u.id}" class="stack">${csrfField(s.csrf)}
        <div class="row"><div class="field"><label for="name">${t('admin.name')}</label><input type="text" id="name" name="name" required maxlength="200" value="${f.name ?? ''}"${bad('name')}></div>
          <div class="field"><label for="email">${t('admin.email')}</label><input type="email" id="email" name="email" value="${f.email ?? ''}"${bad('email')}></div></div>
        <div class="row"><div class="field"><label for="role">${t('admin.role')}</label><select id="role" name="role"${u.id === s.user.id ? html` disabled` : ''}><option value="user">${t('admin.role.user')}</option><option value="admin"${f.role === 'admin' ? html` selected` : ''}>${t('admin.role.admin')}</option></select></div>
          <div class="field"><label for="language">${t('admin.language')}</label>${languageSelect('language', f.language ?? '', t('profile.languageDefault', { lang: orgLang ?? t('admin.orgLanguageBrowser') }))}</div></div>
        <div class="field"><label for="timezone">${t('admin.timezone')}</label>${zoneSelect('timezone', f.timezone ?? u.timezone)}</div>
        <label class="check"><input type="checkbox" name="canChangePlannedDates" value="1"${f.canChangePlannedDates === '1' ? html` checked` : ''}> ${t('admin.canChangePlannedDates')}</label>
        ${u.id === s.user.id ? '' : html`<label class="check"><input type="checkbox" name="disabled" value="1"${f.disabled === '1' ? html` checked` : ''}> ${t('admin.disabledField')}</label>`}
        <div class="toolbar"><button type="submit">${t('common.save')}</button> <a href="/admin/users">${t('common.cancel')}</a></div>
      </form>`
    }, status)
  }

  app.get('/admin/users/:id', async (request, reply) => editPage(request, reply, idParam(request)))
  app.post('/admin/users/:id', async (request, reply) => {
    const s = admin(request)
    const id = idParam(request)
    const before = await getUser(k.db, s.user, id)
    const f = web.form(request)
    const self = id === s.user.id
    try {
      const u = await updateUser(k.db, web.actor(request), id, {
        name: f.name, email: f.email === '' || f.email === undefined ? null : f.email, timezone: f.timezone,
        language: f.language === '' || f.language === undefined ? null : f.language,
        canChangePlannedDates: f.canChangePlannedDates === '1',
        ...(self ? {} : { role: f.role === 'admin' ? 'admin' as const : 'user' as const, disabled: f.disabled === '1' })
      })
      if (u.disabled !== before.disabled) k.signIn.forget()
      if (u.disabled && !before.disabled) await destroySessionsOf(k.db, id)
      return users(request, reply, { notice: t('admin.updated', { login: u.login }) })
    } catch (err) {
      if (refusal(err)) return editPage(request, reply, id, { error: reasonOf(err), invalid: err.field, form: f }, err.status)
      throw err
    }
  })

  async function organisation (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: string } = {}, status = 200) {
    const s = admin(request)
    const org = await getOrg(k.db, s.user)
    return web.render(request, reply, {
      title: t('admin.org'), current: '/admin/organisation', notice: extra.notice ?? null, error: extra.error ?? null,
      body: html`${adminTabs('/admin/organisation')}
      <form method="post" action="/admin/organisation" class="stack">${csrfField(s.csrf)}
        <div class="field"><label for="org-name">${t('admin.orgName')}</label><input type="text" id="org-name" name="name" required maxlength="200" value="${org.name}"></div>
        <div class="field"><label for="org-tz">${t('admin.orgTimezone')}</label>${zoneSelect('org-tz', org.defaultTimezone)}</div>
        <div class="field"><label for="org-language">${t('admin.orgLanguage')}</label>${languageSelect('org-language', org.defaultLanguage, t('profile.languageDefault', { lang: t('admin.orgLanguageBrowser') }), 'defaultLanguage')}</div>
        <label class="check"><input type="checkbox" name="usersMayRenameCases" value="1"${org.usersMayRenameCases ? html` checked` : ''}> ${t('admin.usersMayRenameCases')}</label>
        <div><button type="submit">${t('common.save')}</button></div></form>`
    }, status)
  }

  app.get('/admin/organisation', async (request, reply) => organisation(request, reply))
  app.post('/admin/organisation', async (request, reply) => {
    const f = web.form(request)
    try {
      await updateOrg(k.db, web.actor(request), {
        name: f.name, defaultTimezone: f.timezone, usersMayRenameCases: f.usersMayRenameCases === '1',
        ...(f.defaultLanguage === undefined ? {} : { defaultLanguage: f.defaultLanguage === '' ? null : f.defaultLanguage })
      })
      // the page that says "saved" speaks the new default already
      setLang(await web.languageOf(request, admin(request).user))
      return organisation(request, reply, { notice: t('admin.orgSaved') })
    } catch (err) {
      if (refusal(err)) return organisation(request, reply, { error: reasonOf(err) }, err.status)
      throw err
    }
  })
}
