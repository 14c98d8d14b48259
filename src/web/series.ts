import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { getAppointment } from '../domain/appointments.ts'
import { notFound } from '../domain/errors.ts'
import { deleteOccurrence, editOccurrence, splitSeries, type OccurrenceChange } from '../domain/series.ts'
import { html } from './html.ts'
import { reasonOf, saving } from './items.ts'
import { csrfField } from './layout.ts'
import { t } from './messages.ts'
import { occurrences, type Occurrence } from './occurrences.ts'
import { idParam } from './params.ts'
import type { Web } from './plugin.ts'
import { addDays, instantOf, localParts, validDate } from './time.ts'

/**
 * One occurrence of a recurring appointment: edit or delete this occurrence
 * or this and the following ones (src/domain/series.ts); the whole series is
 * the appointment's own form.
 */
type Form = Record<string, string>

async function findOccurrence (web: Web, request: FastifyRequest, id: number, at: string): Promise<Occurrence> {
  const user = web.session(request).user
  const a = await getAppointment(web.k.db, user, id)
  const when = validDate(at) ?? (Number.isNaN(Date.parse(at)) || !at.includes('T') ? null : at)
  if (when === null || a.rrule === null) throw notFound('occurrence')
  const centre = Date.parse(when)
  // an edited occurrence may have moved: look a few weeks either side of its original start
  const list = await occurrences(web.k.db, user, new Date(centre - 40 * 86_400_000), new Date(centre + 40 * 86_400_000))
  const o = list.find(x => x.appointment.id === id && (x.occurrence === when || Date.parse(x.occurrence) === centre))
  if (o === undefined || o.hidden) throw notFound('occurrence')
  return o
}

function formOf (o: Occurrence, zone: string): Form {
  if (o.allDay) {
    const start = localParts(o.start, 'UTC').date
    return { title: o.title, date: start, endDate: addDays(localParts(o.end, 'UTC').date, -1), location: o.appointment.location, scope: 'this' }
  }
  const s = localParts(o.start, zone)
  const e = localParts(o.end, zone)
  return { title: o.title, date: s.date, start: s.time, endDate: e.date, end: e.time, location: o.appointment.location, scope: 'this' }
}

/** What the form changed, as the domain's change of an occurrence. */
function changeOf (f: Form, before: Form, allDay: boolean, zone: string): OccurrenceChange {
  const change: OccurrenceChange = {}
  if ((f.title ?? '') !== before.title) change.title = f.title ?? ''
  if ((f.location ?? '') !== before.location) change.location = f.location ?? ''
  const moved = ['date', 'start', 'end', 'endDate'].some(k => (f[k] ?? '') !== (before[k] ?? ''))
  if (moved) {
    const date = f.date ?? ''
    if (allDay) {
      change.start = date
      change.end = validDate(f.endDate) === null || validDate(date) === null ? date : addDays(f.endDate! < date ? date : f.endDate!, 1)
    } else if (validDate(date) !== null && /^\d{2}:\d{2}$/.test(f.start ?? '') && /^\d{2}:\d{2}$/.test(f.end ?? '')) {
      change.start = instantOf(date, f.start!, zone).toISOString()
      change.end = instantOf(validDate(f.endDate) ?? date, f.end!, zone).toISOString()
    } else {
      change.start = `${date}T${f.start ?? ''}` // the domain names what is wrong with it
    }
  }
  return change
}

export function seriesRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  async function occurrencePage (request: FastifyRequest, reply: FastifyReply, o: Occurrence, form: Form, error?: string, status = 200) {
    const s = web.session(request)
    const zone = s.user.timezone
    const id = o.appointment.id
    const at = o.occurrence
    const field = (name: string, label: string, type: string, required = false) =>
      html`<div class="field"><label for="${name}">${label}</label><input type="${type}" id="${name}" name="${name}" value="${form[name] ?? ''}"${required ? html` required` : ''}></div>`
    const scope = (value: string, label: string) =>
      html`<label class="check"><input type="radio" name="scope" value="${value}"${(form.scope ?? 'this') === value ? html` checked` : ''}> ${label}</label>`
    return web.render(request, reply, {
      title: t('series.title', { title: o.title }), current: '/week', error: error ?? null,
      body: html`<p>${t('series.intro', { rule: o.appointment.rrule ?? '' })} <a href="/appointments/${id}/edit">${t('series.wholeSeries')}</a></p>
      <form method="post" action="/appointments/${id}/occurrence" class="stack">${csrfField(s.csrf)}
        <input type="hidden" name="at" value="${at}">
        ${field('title', t('appt.title'), 'text', true)}
        <div class="row">${field('date', t('appt.date'), 'date', true)}${field('endDate', t('appt.endDate'), 'date')}</div>
        ${o.allDay ? '' : html`<div class="row">${field('start', t('appt.start'), 'time')}${field('end', t('appt.end'), 'time')}</div>
        <p class="muted">${t('appt.timesIn', { zone })}</p>`}
        ${field('location', t('appt.location'), 'text')}
        <fieldset><legend>${t('series.applyTo')}</legend>${scope('this', t('series.this'))}${scope('following', t('series.following'))}</fieldset>
        <div class="toolbar"><button type="submit">${t('common.save')}</button> <a href="/week?date=${form.date ?? ''}">${t('common.cancel')}</a></div>
      </form>
      <form method="post" action="/appointments/${id}/occurrence/delete" class="inline" data-confirm="${t('series.confirmDelete')}">${csrfField(s.csrf)}
        <input type="hidden" name="at" value="${at}">
        <button type="submit" name="scope" value="this" class="danger">${t('series.deleteThis')}</button>
        <button type="submit" name="scope" value="following" class="danger">${t('series.deleteFollowing')}</button>
      </form>`
    }, status)
  }

  app.get('/appointments/:id/occurrence', async (request, reply) => {
    const o = await findOccurrence(web, request, idParam(request), String((request.query as { at?: string }).at ?? ''))
    return occurrencePage(request, reply, o, formOf(o, web.session(request).user.timezone))
  })

  app.post('/appointments/:id/occurrence', async (request, reply) => {
    const id = idParam(request)
    const f = web.form(request)
    const o = await findOccurrence(web, request, id, f.at ?? '')
    const zone = web.session(request).user.timezone
    return saving(async () => {
      const change = changeOf(f, formOf(o, zone), o.allDay, zone)
      if (f.scope === 'following') await splitSeries(k.db, web.actor(request), id, o.occurrence, change)
      else await editOccurrence(k.db, web.actor(request), id, o.occurrence, change)
      return reply.code(303).header('location', `/week?date=${validDate(f.date) ?? ''}&done=saved`).send()
    }, async err => occurrencePage(request, reply, o, f, reasonOf(err), err.status))
  })

  app.post('/appointments/:id/occurrence/delete', async (request, reply) => {
    const id = idParam(request)
    const f = web.form(request)
    const o = await findOccurrence(web, request, id, f.at ?? '')
    const zone = web.session(request).user.timezone
    return saving(async () => {
      if (f.scope === 'following') await splitSeries(k.db, web.actor(request), id, o.occurrence, null)
      else await deleteOccurrence(k.db, web.actor(request), id, o.occurrence)
      return reply.code(303).header('location', `/week?date=${localParts(o.start, zone).date}&done=deleted`).send()
    }, async err => occurrencePage(request, reply, o, formOf(o, zone), reasonOf(err), err.status))
  })
}
