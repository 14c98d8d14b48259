import type { FastifyInstance, FastifyRequest } from 'fastify'
import { html, type Html } from './html.ts'
import { colourStyle } from './layout.ts'
import { t, type MessageId } from './messages.ts'
import { itemUrl, occurrences, type Occurrence } from './occurrences.ts'
import { dateQuery } from './params.ts'
import type { Web } from './plugin.ts'
import { gridAssets, gridMount } from './grid.ts'
import { syncBadge } from './sync-badge.ts'
import { addDays, dayLabel, instantOf, localParts, monthLabel, todayIn, weekdayShort, weekStartOf } from './time.ts'

/** The week and month views of the user's calendars. */
const NOTICES: Record<string, MessageId> = { saved: 'appt.saved', deleted: 'appt.deleted', left: 'appt.left', 'task-saved': 'tasks.saved', 'task-deleted': 'tasks.deleted' }

/** The notice after a redirect (?done=saved): only known ids, never text from the URL. */
export function noticeOf (request: FastifyRequest): string | null {
  const n = (request.query as { done?: string }).done
  const id = n === undefined ? undefined : NOTICES[n]
  return id === undefined ? null : t(id)
}

function eventItem (o: Occurrence, zone: string, compact = false): Html {
  const start = localParts(o.start, zone)
  const end = localParts(o.end, zone)
  const time = o.allDay ? t('week.allDay') : `${start.time}–${end.time}`
  const label = html`<span class="time">${time}${o.recurring ? html` · ${t('week.recurring')}` : ''}</span>${o.title}`
  return html`<li class="event"${colourStyle(o.calendar?.color)}>${o.hidden ? label : html`<a href="${itemUrl(o)}"${compact ? html` title="${o.title}"` : ''}>${label}</a>`}</li>`
}

/** Occurrences per local date, each on every day it covers. */
function byDay (list: Occurrence[], days: string[], zone: string): Map<string, Occurrence[]> {
  const map = new Map(days.map(d => [d, [] as Occurrence[]]))
  for (const o of list) {
    for (const d of days) {
      const dayStart = instantOf(d, '00:00', zone).getTime()
      const dayEnd = instantOf(addDays(d, 1), '00:00', zone).getTime()
      const s = o.start.getTime()
      const e = Math.max(o.end.getTime(), s + 1)
      if (s < dayEnd && e > dayStart) map.get(d)!.push(o)
    }
  }
  return map
}

export function viewRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  app.get('/week', async (request, reply) => {
    const user = web.session(request).user
    const zone = user.timezone
    const today = todayIn(zone)
    const monday = weekStartOf(dateQuery(request) ?? today)
    const days = Array.from({ length: 7 }, (_, i) => addDays(monday, i))
    const list = await occurrences(k.db, user, instantOf(monday, '00:00', zone), instantOf(addDays(monday, 7), '00:00', zone))
    const map = byDay(list, days, zone)
    return web.render(request, reply, {
      title: t('week.title', { date: dayLabel(monday) }), current: '/week', notice: noticeOf(request), ...gridAssets(),
      body: html`${await syncBadge(web, user)}${viewSwitch('/week', days.includes(today) ? today : monday, user.timezone)}${gridMount(user, web.session(request).csrf, 'timeGridWeek', monday)}<div class="fallback"><nav class="toolbar" aria-label="${t('week.title', { date: '' })}">
        <a class="button secondary" href="/week?date=${addDays(monday, -7)}" rel="prev">← ${t('week.prev')}</a>
        <a class="button secondary" href="/week?date=${today}">${t('week.today')}</a>
        <a class="button secondary" href="/week?date=${addDays(monday, 7)}" rel="next">${t('week.next')} →</a>
</nav>
      <ol class="week">${days.map(d => {
        const items = map.get(d)!
        return html`<li class="day${d === today ? ' today' : ''}" aria-labelledby="day-${d}"><h2 id="day-${d}"><span class="long">${dayLabel(d)}</span><span class="short" aria-hidden="true">${dayLabel(d, 'short')}</span>
          <a href="/appointments/new?date=${d}" aria-label="${t('week.newOn', { date: dayLabel(d) })}">+</a></h2>
          ${items.length === 0 ? html`<p class="muted">${t('week.empty')}</p>` : html`<ul class="events">${items.map(o => eventItem(o, zone))}</ul>`}</li>`
      })}</ol></div>`
    })
  })

  app.get('/month', async (request, reply) => {
    const user = web.session(request).user
    const zone = user.timezone
    const today = todayIn(zone)
    const asked = dateQuery(request) ?? today
    const first = `${asked.slice(0, 7)}-01`
    const nextMonth = addDays(first, 32).slice(0, 7) + '-01'
    const prevMonth = addDays(first, -1).slice(0, 7) + '-01'
    const start = weekStartOf(first)
    const weeks = Math.ceil(((Date.parse(nextMonth) - Date.parse(start)) / 86_400_000) / 7)
    const days = Array.from({ length: weeks * 7 }, (_, i) => addDays(start, i))
    const list = await occurrences(k.db, user, instantOf(start, '00:00', zone), instantOf(addDays(start, weeks * 7), '00:00', zone))
    const map = byDay(list, days, zone)
    const heads = days.slice(0, 7).map(weekdayShort)
    return web.render(request, reply, {
      title: t('month.title', { month: monthLabel(first) }), current: '/month', notice: noticeOf(request), ...gridAssets(),
      body: html`${await syncBadge(web, user)}${viewSwitch('/month', asked, user.timezone)}${gridMount(user, web.session(request).csrf, 'dayGridMonth', asked)}<div class="fallback"><nav class="toolbar" aria-label="${monthLabel(first)}">
        <a class="button secondary" href="/month?date=${prevMonth}" rel="prev">← ${t('month.prev')}</a>
        <a class="button secondary" href="/month?date=${today}">${t('week.today')}</a>
        <a class="button secondary" href="/month?date=${nextMonth}" rel="next">${t('month.next')} →</a>
</nav>
      <div class="table-wrap"><table class="month"><thead><tr>${heads.map(h => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>
      ${Array.from({ length: weeks }, (_, w) => html`<tr>${days.slice(w * 7, w * 7 + 7).map(d => {
        const items = map.get(d)!
        const shown = items.slice(0, 4)
        return html`<td class="${d.slice(0, 7) === first.slice(0, 7) ? '' : 'other'}${d === today ? ' today' : ''}">
          <a class="num" href="/week?date=${d}" aria-label="${dayLabel(d)}">${Number(d.slice(8))}</a>
          ${shown.length === 0 ? '' : html`<ul class="events">${shown.map(o => eventItem(o, zone, true))}</ul>`}
          ${items.length > shown.length ? html`<a href="/week?date=${d}">${t('week.more', { count: items.length - shown.length })}</a>` : ''}</td>`
      })}</tr>`)}
      </tbody></table></div></div>`
    })
  })

  app.get('/day', async (request, reply) => {
    const user = web.session(request).user
    const zone = user.timezone
    const today = todayIn(zone)
    const day = dateQuery(request) ?? today
    const list = await occurrences(k.db, user, instantOf(day, '00:00', zone), instantOf(addDays(day, 1), '00:00', zone))
    const items = byDay(list, [day], zone).get(day)!
    return web.render(request, reply, {
      title: dayLabel(day), current: '/day', notice: noticeOf(request), ...gridAssets(),
      body: html`${await syncBadge(web, user)}${viewSwitch('/day', day, zone)}${gridMount(user, web.session(request).csrf, 'timeGridDay', day)}<div class="fallback"><nav class="toolbar" aria-label="${t('grid.day')}">
        <a class="button secondary" href="/day?date=${addDays(day, -1)}" rel="prev">← ${t('grid.prevDay')}</a>
        <a class="button secondary" href="/day?date=${today}">${t('week.today')}</a>
        <a class="button secondary" href="/day?date=${addDays(day, 1)}" rel="next">${t('grid.nextDay')} →</a></nav>
        ${items.length === 0 ? html`<p class="muted">${t('week.empty')}</p>` : html`<ul class="events">${items.map(o => eventItem(o, zone))}</ul>`}</div>`
    })
  })
}

/** Day, week and month links, the new-appointment button and the zone the times are in: above the grid and the lists alike. */
function viewSwitch (current: string, date: string, zone: string): Html {
  const views: [string, MessageId][] = [['/day', 'grid.day'], ['/week', 'grid.week'], ['/month', 'grid.month']]
  return html`<div class="toolbar views"><a class="button" href="/appointments/new?date=${date}">${t('week.new')}</a>
    ${views.map(([href, id]) => html`<a class="button secondary" href="${href}?date=${date}"${href === current ? html` aria-current="page"` : ''}>${t(id)}</a>`)}
    <span class="muted">${t('appt.timesIn', { zone })}</span></div>`
}
