import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createCalendar, deleteCalendar, shareCalendar, sharesOf, updateCalendar } from '../domain/calendars.ts'
import { calendarPath, calendarSegment } from '../caldav/paths.ts'
import { DomainError } from '../domain/errors.ts'
import { createFeed, feedCalendars, listFeeds, revokeFeed, rotateFeed, setCalendarPrefs, type FeedCalendar, type FeedClient } from '../domain/feeds.ts'
import { listUsers } from '../domain/users.ts'
import { feedUrls } from '../feeds/http.ts'
import type { Feed } from '../feeds/tables.ts'
import { html, type Html } from './html.ts'
import { copyField, csrfField, postButton, swatch, when } from './layout.ts'
import { t } from './messages.ts'
import type { Web } from './plugin.ts'
import { idParam } from './params.ts'
import { reasonOf } from './items.ts'

/** My calendars: colour, sharing, the export and favourite switches, feed links and who polls them. */
export function calendarRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  async function show (request: FastifyRequest, reply: FastifyReply, extra: { secret?: { feed: Feed; token: string }; notice?: string; error?: string } = {}, status = 200) {
    const s = web.session(request)
    const user = s.user
    const [cals, feeds, people] = await Promise.all([feedCalendars(k.db, user), listFeeds(k.db, user), listUsers(k.db, user)])
    const nameOf = new Map(people.map(p => [p.id, p.name]))
    const shares = new Map<number, string[]>()
    for (const c of cals) {
      if (c.access === 'owner' && c.owner_id !== null) shares.set(c.id, (await sharesOf(k.db, user, c.id)).map(x => `${nameOf.get(x.user_id) ?? x.user_id} (${t(`calendars.share.${x.access}`)})`))
    }
    const feedRow = (f: Feed & { clients: FeedClient[] }): Html => html`<li class="card">
      <strong>${f.busy_only ? t('calendars.busyOnly') : t('calendars.full')}</strong> · <span class="muted">${t('calendars.feedHint', { hint: f.token_hint })}</span>
      <div class="muted">${t('calendars.lastFetched')}: ${when(f.last_fetched_at, user.timezone)}</div>
      <div>${t('calendars.pollers')}: ${f.clients.length === 0 ? t('calendars.nobodyPolls') : html`<ul>${f.clients.map(c => html`<li>${t('calendars.pollerLine', { agent: c.user_agent, fetches: c.fetches, when: when(c.last_seen, user.timezone) })}</li>`)}</ul>`}</div>
      <div class="toolbar">${postButton(`/calendars/feeds/${f.id}/rotate`, s.csrf, t('calendars.rotate'))} ${postButton(`/calendars/feeds/${f.id}/revoke`, s.csrf, t('calendars.revoke'), { cls: 'danger' })}</div>
    </li>`
    const newFeedButtons = (fields: Record<string, string>) => html`<div class="toolbar">
      ${postButton('/calendars/feeds', s.csrf, t('calendars.newFeed'), { fields })}
      ${postButton('/calendars/feeds', s.csrf, t('calendars.newBusyFeed'), { fields: { ...fields, busyOnly: '1' } })}</div>`
    const colleagues = people.filter(p => p.id !== user.id && !p.disabled)
    const shareForm = (calendarId: number): Html => colleagues.length === 0 ? html`` : html`<form method="post" action="/calendars/${calendarId}/share" class="inline">${csrfField(s.csrf)}
      <div class="field"><label for="share-user-${calendarId}">${t('calendars.shareWith')}</label><select id="share-user-${calendarId}" name="userId">${colleagues.map(p => html`<option value="${p.id}">${p.name}</option>`)}</select></div>
      <div class="field"><label for="share-access-${calendarId}">${t('calendars.access')}</label><select id="share-access-${calendarId}" name="access">
        <option value="read">${t('calendars.share.read')}</option><option value="write">${t('calendars.share.write')}</option><option value="">${t('calendars.share.none')}</option></select></div>
      <button type="submit" class="secondary">${t('calendars.share')}</button></form>`
    const logins = new Map(people.map(p => [p.id, p.login]))
    const davUrl = (c: FeedCalendar) => new URL(calendarPath(user.login, calendarSegment(c, user.id, c.owner_id === null ? null : logins.get(c.owner_id) ?? null)), k.config.publicUrl).href
    const manages = (c: FeedCalendar) => c.access === 'owner' || (c.kind === 'company' && user.role === 'admin')
    const editForm = (c: FeedCalendar): Html => html`<details class="block"><summary>${t('cal.edit')}</summary>
      <form method="post" action="/calendars/${c.id}" class="stack">${csrfField(s.csrf)}
        <div class="field"><label for="cal-name-${c.id}">${t('cal.name')}</label><input type="text" id="cal-name-${c.id}" name="name" value="${c.name}" required maxlength="200"></div>
        <div class="field"><label for="cal-desc-${c.id}">${t('cal.description')}</label><textarea id="cal-desc-${c.id}" name="description" rows="2">${c.description}</textarea></div>
        <div class="field"><label for="cal-color-${c.id}">${t('calendars.colour')}</label><input type="color" id="cal-color-${c.id}" name="color" value="${(c.color ?? '#0b5cad').slice(0, 7)}"></div>
        <div><button type="submit" class="secondary">${t('common.save')}</button></div></form>
      ${c.is_default ? html`<p class="muted">${t('cal.defaultStays')}</p>` : html`<form method="post" action="/calendars/${c.id}/delete" class="inline" data-confirm="${t('cal.confirmDelete', { name: c.name })}">${csrfField(s.csrf)}<button type="submit" class="danger">${t('cal.delete')}</button></form>`}</details>`
    const calendarCard = (c: FeedCalendar): Html => {
      const mine = feeds.filter(f => f.calendar_id === c.id)
      const sharing = c.kind === 'company' ? t('calendars.company') : c.access === 'owner' ? ((shares.get(c.id) ?? []).join(', ') || t('calendars.notShared')) : t(`calendars.access.${c.access}`)
      return html`<section class="card" aria-labelledby="cal-${c.id}-h">
        <h2 id="cal-${c.id}-h">${swatch(c.color)}${c.name}</h2>
        ${c.description === '' ? '' : html`<p>${c.description}</p>`}
        <p class="muted">${c.color === null ? '' : `${t('calendars.colour')}: ${c.color} · `}${t('calendars.access')}: ${t(`calendars.access.${c.access}`)} · ${t('calendars.sharedWith')}: ${sharing}</p>
        ${copyField(`dav-${c.id}`, t('cal.davAddress'), davUrl(c))}
        ${manages(c) ? editForm(c) : ''}
        <form method="post" action="/calendars/${c.id}/prefs" class="inline">${csrfField(s.csrf)}
          <label class="check"><input type="checkbox" name="allowExport" value="1"${c.allowExport ? html` checked` : ''}${c.ownerAllows ? '' : html` disabled`}> ${t('calendars.allowExport')}</label>
          <label class="check"><input type="checkbox" name="favourite" value="1"${c.favourite ? html` checked` : ''}> ${t('calendars.favourite')}</label>
          ${c.access === 'owner' && c.owner_id !== null ? html`<label class="check"><input type="checkbox" name="shareesMayExport" value="1"${c.shareesMayExport ? html` checked` : ''}> ${t('calendars.shareesMayExport')}</label>` : ''}
          <button type="submit" class="secondary">${t('common.save')}</button>
        </form>
        ${c.ownerAllows ? '' : html`<p class="muted">${t('calendars.ownerForbids')}</p>`}
        ${c.access === 'owner' && c.owner_id !== null ? shareForm(c.id) : ''}
        <h3>${t('calendars.feeds')}</h3>
        ${mine.length === 0 ? html`<p class="muted">${t('calendars.noFeeds')}</p>` : html`<ul class="events">${mine.map(feedRow)}</ul>`}
        ${c.exportable ? newFeedButtons({ calendarId: String(c.id) }) : ''}
      </section>`
    }
    const favFeeds = feeds.filter(f => f.scope === 'favourites')
    return web.render(request, reply, {
      title: t('calendars.title'), current: '/calendars', notice: extra.notice ?? null, error: extra.error ?? null,
      body: html`
      ${extra.secret === undefined ? '' : secretBlock(extra.secret)}
      <p>${t('calendars.intro')}</p>
      <p class="muted">${t('cal.davHint')}</p>
      ${cals.map(calendarCard)}
      <section class="card" aria-labelledby="newcal-h"><h2 id="newcal-h">${t('cal.new')}</h2>
        <form method="post" action="/calendars" class="stack">${csrfField(s.csrf)}
          <div class="field"><label for="newcal-name">${t('cal.name')}</label><input type="text" id="newcal-name" name="name" required maxlength="200"></div>
          <div class="field"><label for="newcal-desc">${t('cal.description')}</label><textarea id="newcal-desc" name="description" rows="2"></textarea></div>
          <div class="row"><div class="field"><label for="newcal-color">${t('calendars.colour')}</label><input type="color" id="newcal-color" name="color" value="#1a7f37"></div>
          <div class="field"><label for="newcal-holds">${t('cal.holds')}</label><select id="newcal-holds" name="holds"><option value="VEVENT">${t('cal.holds.VEVENT')}</option><option value="VTODO">${t('cal.holds.VTODO')}</option></select></div></div>
          <div><button type="submit">${t('cal.create')}</button></div></form></section>
      <section class="card" aria-labelledby="fav-h"><h2 id="fav-h">${t('calendars.favouritesFeed')}</h2>
        <p>${t('calendars.favouritesText')}</p>
        ${favFeeds.length === 0 ? html`<p class="muted">${t('calendars.noFeeds')}</p>` : html`<ul class="events">${favFeeds.map(feedRow)}</ul>`}
        ${newFeedButtons({ favourites: '1' })}
      </section>`
    }, status)
  }

  function secretBlock ({ feed, token }: { feed: Feed; token: string }): Html {
    const urls = feedUrls(k.config.publicUrl, token)
    return html`<section class="secret" aria-labelledby="secret-h"><h2 id="secret-h">${t('calendars.newLink', { kind: feed.busy_only ? t('calendars.busyOnly') : t('calendars.full') })}</h2>
      <p>${t('calendars.newLinkOnce')}</p>
      ${copyField('feed-url', t('calendars.https'), urls.url)}
      ${copyField('feed-webcal', t('calendars.webcal'), urls.webcal)}</section>`
  }

  const refused = async (request: FastifyRequest, reply: FastifyReply, fn: () => Promise<FastifyReply>) => {
    try { return await fn() } catch (err) {
      if (err instanceof DomainError && (err.kind === 'forbidden' || err.kind === 'invalid' || err.kind === 'conflict' || (err.kind === 'not-found' && err.message === 'share not found'))) return show(request, reply, { error: reasonOf(err) }, err.status)
      throw err
    }
  }

  app.get('/calendars', async (request, reply) => show(request, reply))

  const colourOf = (v: string | undefined) => (v === undefined || v === '' ? undefined : v)

  app.post('/calendars', async (request, reply) => {
    const f = web.form(request)
    return refused(request, reply, async () => {
      if ((f.name ?? '').trim() === '') throw new DomainError('invalid', t('cal.nameRequired'), { field: 'name' })
      const cal = await createCalendar(k.db, web.actor(request), { name: f.name!.trim(), description: f.description ?? '', color: colourOf(f.color) ?? null, components: [f.holds === 'VTODO' ? 'VTODO' : 'VEVENT'] })
      return show(request, reply, { notice: t('cal.created', { name: cal.name }) })
    })
  })

  app.post('/calendars/:id', async (request, reply) => {
    const id = idParam(request)
    const f = web.form(request)
    return refused(request, reply, async () => {
      if (f.name !== undefined && f.name.trim() === '') throw new DomainError('invalid', t('cal.nameRequired'), { field: 'name' })
      const cal = await updateCalendar(k.db, web.actor(request), id, { name: f.name?.trim(), description: f.description, color: colourOf(f.color) })
      return show(request, reply, { notice: t('cal.savedOne', { name: cal.name }) })
    })
  })

  app.post('/calendars/:id/delete', async (request, reply) => {
    const id = idParam(request)
    return refused(request, reply, async () => {
      await deleteCalendar(k.db, web.actor(request), id)
      return show(request, reply, { notice: t('cal.deleted') })
    })
  })

  app.post('/calendars/:id/prefs', async (request, reply) => {
    const id = idParam(request)
    const f = web.form(request)
    const [cal] = await feedCalendars(k.db, web.session(request).user, id)
    if (cal === undefined) throw new DomainError('not-found', 'calendar not found')
    return refused(request, reply, async () => {
      await setCalendarPrefs(k.db, web.actor(request), id, {
        favourite: f.favourite === '1',
        ...(cal.ownerAllows ? { allowExport: f.allowExport === '1' } : {}),
        ...(cal.access === 'owner' && cal.owner_id !== null ? { shareesMayExport: f.shareesMayExport === '1' } : {})
      })
      return show(request, reply, { notice: t('calendars.saved') })
    })
  })

  app.post('/calendars/:id/share', async (request, reply) => {
    const id = idParam(request)
    const f = web.form(request)
    const userId = Number(f.userId)
    return refused(request, reply, async () => {
      if (!Number.isSafeInteger(userId)) throw new DomainError('invalid', 'choose a colleague', { field: 'userId' })
      await shareCalendar(k.db, web.actor(request), id, userId, f.access === 'read' || f.access === 'write' ? f.access : null)
      return show(request, reply, { notice: t('calendars.saved') })
    })
  })

  app.post('/calendars/feeds', async (request, reply) => {
    const f = web.form(request)
    const calendarId = f.calendarId === undefined ? undefined : Number(f.calendarId)
    if (calendarId !== undefined && !Number.isSafeInteger(calendarId)) throw new DomainError('not-found', 'calendar not found')
    return refused(request, reply, async () => {
      const secret = await createFeed(k.db, web.actor(request), { calendarId, favourites: f.favourites === '1' ? true : undefined, busyOnly: f.busyOnly === '1' })
      return show(request, reply, { secret })
    })
  })

  app.post('/calendars/feeds/:id/rotate', async (request, reply) => show(request, reply, { secret: await rotateFeed(k.db, web.actor(request), idParam(request)) }))

  app.post('/calendars/feeds/:id/revoke', async (request, reply) => {
    await revokeFeed(k.db, web.actor(request), idParam(request))
    return show(request, reply, { notice: t('calendars.revokedDone') })
  })
}
