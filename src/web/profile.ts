import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DomainError } from '../domain/errors.ts'
import { getOrg } from '../domain/orgs.ts'
import { updateUser } from '../domain/users.ts'
import { html } from './html.ts'
import { csrfField, zoneSelect } from './layout.ts'
import { firstDayOfWeek, intlLocale, LANG_NAMES, LANGS, setLang, type Lang } from './locale.ts'
import { t } from './messages.ts'
import type { Web } from './plugin.ts'
import { reasonOf } from './items.ts'

/**
 * My profile: the user's language and time zone, and their own password
 * (the domain asks for the current one and counts wrong ones like wrong
 * sign-ins: SignIn.confirm). Saving goes through updateUser like the API.
 */
export function languageSelect (id: string, value: string | null, defaultLabel: string | null, name = 'language') {
  const options: [string, string][] = [...(defaultLabel === null ? [] : [['', defaultLabel] as [string, string]]), ...LANGS.map(l => [l, LANG_NAMES[l]] as [string, string])]
  return html`<select id="${id}" name="${name}">${options.map(([v, label]) => html`<option value="${v}"${v === (value ?? '') ? html` selected` : ''}${v === '' ? '' : html` lang="${v}"`}>${label}</option>`)}</select>`
}

/** ISO weekdays (1 = Monday) from the language's first day of the week, each with its name in the language. */
function weekdays (): { day: number; name: string }[] {
  const first = firstDayOfWeek()
  const name = new Intl.DateTimeFormat(intlLocale(), { weekday: 'long', timeZone: 'UTC' })
  // 1 January 2024 was a Monday
  return [0, 1, 2, 3, 4, 5, 6].map(i => ((first - 1 + i) % 7) + 1).map(day => ({ day, name: name.format(new Date(Date.UTC(2024, 0, day))) }))
}

export function profileRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  async function show (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: string; invalid?: string } = {}, status = 200) {
    const s = web.session(request)
    const org = await getOrg(k.db, s.user)
    const orgLang = org.defaultLanguage === null ? null : LANG_NAMES[org.defaultLanguage as Lang] ?? null
    return web.render(request, reply, {
      title: t('profile.title'), current: '/profile', notice: extra.notice ?? null, error: extra.error ?? null,
      body: html`<section class="card" aria-labelledby="settings-h"><h2 id="settings-h">${t('profile.settings')}</h2>
        <form method="post" action="/profile" class="stack">${csrfField(s.csrf)}
          <div class="field"><label for="language">${t('profile.language')}</label>${languageSelect('language', s.user.language, t('profile.languageDefault', { lang: orgLang ?? t('admin.orgLanguageBrowser') }))}</div>
          <div class="field"><label for="timezone">${t('profile.timezone')}</label>${zoneSelect('timezone', s.user.timezone)}<span class="muted" id="timezone-hint">${t('profile.timezoneHint')}</span></div>
          <div><button type="submit">${t('common.save')}</button></div>
        </form></section>
        <section class="card" aria-labelledby="hours-h"><h2 id="hours-h">${t('finish.hours')}</h2>
        <form method="post" action="/profile/hours" class="stack">${csrfField(s.csrf)}
          <p class="muted">${t('finish.hoursHint')}</p>
          <div class="field"><label for="workStart">${t('finish.workStart')}</label><input type="time" id="workStart" name="workStart" value="${s.user.work_start}" required${invalidMark(extra.invalid === 'workStart')}></div>
          <div class="field"><label for="workEnd">${t('finish.workEnd')}</label><input type="time" id="workEnd" name="workEnd" value="${s.user.work_end}" required${invalidMark(extra.invalid === 'workEnd')}></div>
          <fieldset${extra.invalid === 'workDays' ? html` aria-describedby="form-error"` : ''}><legend>${t('finish.workDays')}</legend>
            ${weekdays().map(({ day, name }) => html`<label class="check"><input type="checkbox" name="day${String(day)}" value="1"${s.user.work_days.split(',').includes(String(day)) ? html` checked` : ''}> ${name}</label> `)}
          </fieldset>
          <div><button type="submit">${t('common.save')}</button></div>
        </form></section>
        <section class="card" aria-labelledby="password-h"><h2 id="password-h">${t('profile.password')}</h2>
        <form method="post" action="/profile/password" class="stack">${csrfField(s.csrf)}
          <input type="text" name="username" autocomplete="username" value="${s.user.login}" hidden>
          <div class="field"><label for="currentPassword">${t('profile.currentPassword')}</label><input type="password" id="currentPassword" name="currentPassword" autocomplete="current-password" required${extra.invalid === 'currentPassword' ? html` aria-invalid="true" aria-describedby="form-error"` : ''}></div>
          <div class="field"><label for="password">${t('profile.newPassword')}</label><input type="password" id="password" name="password" autocomplete="new-password" minlength="8" required${extra.invalid === 'password' ? html` aria-invalid="true" aria-describedby="form-error"` : ''}></div>
          <div><button type="submit">${t('profile.passwordSubmit')}</button></div>
        </form></section>`
    }, status)
  }

  const invalidMark = (on: boolean) => on ? html` aria-invalid="true" aria-describedby="form-error"` : ''
  const refused = (err: unknown): err is DomainError => err instanceof DomainError && ['invalid', 'forbidden', 'conflict', 'too-many-requests'].includes(err.kind)

  app.get('/profile', async (request, reply) => show(request, reply))

  app.post('/profile', async (request, reply) => {
    const s = web.session(request)
    const f = web.form(request)
    try {
      s.user = await updateUser(k.db, web.actor(request), s.user.id, { language: f.language === '' || f.language === undefined ? null : f.language, timezone: f.timezone, timezoneConfirmed: true })
    } catch (err) {
      if (refused(err)) return show(request, reply, { error: reasonOf(err) }, err.status)
      throw err
    }
    // the page that says "saved" is already in the new language
    setLang(await web.languageOf(request, s.user))
    return show(request, reply, { notice: t('profile.saved') })
  })

  // the first-sign-in offer of the browser's zone
  app.post('/profile/timezone', async (request, reply) => {
    const s = web.session(request)
    const f = web.form(request)
    try {
      s.user = await updateUser(k.db, web.actor(request), s.user.id, { timezone: f.timezone, timezoneConfirmed: true })
    } catch (err) {
      if (refused(err)) return show(request, reply, { error: reasonOf(err) }, err.status)
      throw err
    }
    return reply.code(303).header('location', '/week').send()
  })

  app.post('/profile/hours', async (request, reply) => {
    const s = web.session(request)
    const f = web.form(request)
    const workDays = [1, 2, 3, 4, 5, 6, 7].filter(d => f[`day${d}`] === '1')
    try {
      s.user = await updateUser(k.db, web.actor(request), s.user.id, { workStart: f.workStart ?? '', workEnd: f.workEnd ?? '', workDays })
    } catch (err) {
      if (refused(err)) return show(request, reply, { error: reasonOf(err), invalid: err.field }, err.status)
      throw err
    }
    return show(request, reply, { notice: t('finish.hoursSaved') })
  })

  app.post('/profile/password', async (request, reply) => {
    const s = web.session(request)
    const f = web.form(request)
    try {
      await updateUser(k.db, web.actor(request), s.user.id, { password: f.password ?? '', currentPassword: f.currentPassword ?? '' }, { keepSession: s.idHash, confirmCurrent: (u, secret) => k.signIn.confirm(u, secret, request) })
      k.signIn.forget()
    } catch (err) {
      if (refused(err)) {
        if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds))
        return show(request, reply, { error: reasonOf(err), invalid: err.field }, err.status)
      }
      throw err
    }
    return show(request, reply, { notice: t('profile.passwordDone') })
  })
}
