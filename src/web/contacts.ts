import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ContactAddress } from '../db/schema.ts'
import { listCases } from '../domain/cases.ts'
import { addressBooksFor, createContact, deleteContact, getContact, listContacts, updateContact, type ContactInput, type ContactView } from '../domain/contacts.ts'
import { html, type Html } from './html.ts'
import type { DomainError } from '../domain/errors.ts'
import { csrfField, postButton } from './layout.ts'
import { markInvalid, reasonOf, saving } from './items.ts'
import { t, type MessageId } from './messages.ts'
import { idParam, optionalId } from './params.ts'
import type { Web } from './plugin.ts'

/**
 * The contacts pages: a list with a search box and a case filter, and one
 * form to add or edit a person or a company. Saves are the domain's
 * createContact/updateContact with origin "web" (the same as REST and
 * CardDAV); a refusal comes back in the form with its reason. E-mails,
 * phones and websites are one per line, so every one a phone wrote stays
 * (a line kept keeps its type and the vCard line behind it).
 */
type Form = Record<string, string>

const LABELS: Record<string, MessageId> = {
  displayName: 'contacts.displayName', givenName: 'contacts.givenName', familyName: 'contacts.familyName', organization: 'contacts.organization',
  companyId: 'contacts.company', jobTitle: 'contacts.jobTitle', emails: 'contacts.emails', phones: 'contacts.phones', websites: 'contacts.websites',
  birthday: 'contacts.birthday', notes: 'contacts.notes', addressBookId: 'contacts.addressBook'
}
const labelled = (field: string | undefined) => field?.replace(/\[\d+\].*$/, '')

const field = (id: string, label: string, input: Html) => html`<div class="field"><label for="${id}">${label}</label>${input}</div>`
const input = (name: string, value: string, type = 'text') => html`<input type="${type}" id="${name}" name="${name}" value="${value}">`
const area = (name: string, value: string, rows = 3) => html`<textarea id="${name}" name="${name}" rows="${String(rows)}">${value}</textarea>`
const select = (name: string, value: string, options: [string, string][]) =>
  html`<select id="${name}" name="${name}">${options.map(([v, label]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${label}</option>`)}</select>`

function formOf (c: ContactView): Form {
  const a = c.addresses[0]
  const f: Form = {
    addressBookId: String(c.addressBookId), kind: c.kind, displayName: c.displayName, givenName: c.givenName, familyName: c.familyName,
    organization: c.organization, companyId: c.companyId === null ? '' : String(c.companyId), jobTitle: c.jobTitle,
    emails: c.emails.map(e => e.value).join('\n'), phones: c.phones.map(p => p.value).join('\n'), websites: c.websites.map(w => w.value).join('\n'),
    street: a?.street ?? '', locality: a?.locality ?? '', postalCode: a?.postalCode ?? '', country: a?.country ?? '',
    birthday: c.birthday ?? '', notes: c.notes, version: String(c.version)
  }
  for (const id of c.caseIds) f[`case-${id}`] = 'on'
  return f
}

const lines = (s: string | undefined) => (s ?? '').split(/\r?\n/).map(l => l.trim()).filter(l => l !== '')

/** A list field from its lines: a value that was there keeps its type. */
function typed (text: string | undefined, before: { type: string; value: string }[], fallback: string) {
  return lines(text).map(value => ({ type: before.find(b => b.value === value)?.type ?? fallback, value }))
}

function inputOf (f: Form, before: ContactView | null): ContactInput {
  const address: ContactAddress | undefined = before?.addresses[0]
  const parts = { street: f.street ?? '', locality: f.locality ?? '', postalCode: f.postalCode ?? '', country: f.country ?? '' }
  const hasAddress = Object.values(parts).some(v => v.trim() !== '')
  const others = before?.addresses.slice(1) ?? []
  const caseIds = Object.keys(f).filter(k => /^case-\d+$/.test(k)).map(k => Number(k.slice(5)))
  const companyId = optionalId(f.companyId)
  const displayName = (f.displayName ?? '').trim()
  return {
    ...(before === null ? { addressBookId: Number(f.addressBookId) } : {}),
    kind: f.kind === 'company' ? 'company' : 'person',
    ...(displayName === '' ? {} : { displayName }),
    givenName: f.givenName ?? '', familyName: f.familyName ?? '', organization: f.organization ?? '', jobTitle: f.jobTitle ?? '',
    ...(companyId === undefined ? {} : { companyId: companyId === -1 ? Number.NaN : companyId }),
    emails: typed(f.emails, before?.emails ?? [], 'work'),
    phones: typed(f.phones, before?.phones ?? [], 'work'),
    websites: typed(f.websites, before?.websites ?? [], ''),
    addresses: hasAddress ? [{ ...(address ?? { type: 'work', poBox: '', extended: '', region: '' }), ...parts }, ...others] : others,
    birthday: (f.birthday ?? '').trim() === '' ? null : f.birthday!.trim(),
    notes: f.notes ?? '',
    caseIds
  }
}

export function contactRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  app.get('/contacts', async (request, reply) => {
    const user = web.session(request).user
    const q = request.query as { q?: string; caseId?: string; cursor?: string; done?: string }
    const caseId = optionalId(q.caseId)
    const [cases, page] = await Promise.all([
      listCases(k.db, user),
      listContacts(k.db, user, {
        ...(q.q !== undefined && q.q.trim() !== '' ? { q: q.q.slice(0, 200) } : {}),
        ...(typeof caseId === 'number' && caseId > 0 ? { caseId } : {}),
        ...(q.cursor !== undefined && q.cursor !== '' ? { cursor: q.cursor } : {}),
        limit: 50
      })
    ])
    const notice = q.done === 'saved' ? t('contacts.done.saved') : q.done === 'deleted' ? t('contacts.done.deleted') : null
    const next = page.nextCursor === null ? '' : `/contacts?${new URLSearchParams({ q: q.q ?? '', caseId: q.caseId ?? '', cursor: page.nextCursor }).toString()}`
    return web.render(request, reply, {
      title: t('contacts.title'), current: '/contacts', notice,
      body: html`<form method="get" action="/contacts" class="toolbar" role="search">
        ${field('q', t('contacts.searchLabel'), input('q', q.q ?? '', 'search'))}
        ${field('caseId', t('contacts.case'), select('caseId', q.caseId ?? '', [['', t('contacts.allCases')], ...cases.map(c => [String(c.id), c.title] as [string, string])]))}
        <button type="submit">${t('contacts.search')}</button></form>
      <p><a class="button" href="/contacts/new">${t('contacts.new')}</a></p>
      ${page.items.length === 0
        ? html`<p>${t('contacts.none')}</p>`
        : html`<table><thead><tr><th scope="col">${t('contacts.name')}</th><th scope="col">${t('contacts.organization')}</th><th scope="col">${t('contacts.email')}</th><th scope="col">${t('contacts.phone')}</th></tr></thead>
          <tbody>${page.items.map(c => html`<tr><td><a href="/contacts/${String(c.id)}/edit">${c.displayName}</a>${c.kind === 'company' ? html` <span class="muted">(${t('contacts.kind.company')})</span>` : ''}</td>
            <td>${c.organization}${c.jobTitle === '' ? '' : html` <span class="muted">${c.jobTitle}</span>`}</td>
            <td>${c.emails[0] === undefined ? '' : html`<a href="mailto:${c.emails[0].value}">${c.emails[0].value}</a>`}</td>
            <td>${c.phones[0] === undefined ? '' : html`<a href="tel:${c.phones[0].value.replace(/\s/g, '')}">${c.phones[0].value}</a>`}</td></tr>`)}</tbody></table>`}
      ${next === '' ? '' : html`<p><a href="${next}">${t('contacts.next')}</a></p>`}`
    })
  })

  async function formPage (request: FastifyRequest, reply: FastifyReply, o: { contact?: ContactView; form: Form; error?: string; invalid?: string; status?: number }) {
    const s = web.session(request)
    const user = s.user
    const [books, cases, companies] = await Promise.all([addressBooksFor(k.db, user), listCases(k.db, user), listContacts(k.db, user, { kind: 'company', limit: 1000 })])
    const f = o.form
    const writable = books.filter(b => b.access !== 'read')
    const readOnly = o.contact !== undefined && books.find(b => b.id === o.contact!.addressBookId)?.access === 'read'
    const invalid = labelled(o.invalid)
    const body = html`${readOnly ? html`<p class="notice">${t('contacts.readOnly')}</p>` : ''}
    <form method="post" action="${o.contact === undefined ? '/contacts' : `/contacts/${String(o.contact.id)}`}" class="stack">${csrfField(s.csrf)}
      <input type="hidden" name="version" value="${f.version ?? ''}">
      <div class="row">${o.contact === undefined ? field('addressBookId', t('contacts.addressBook'), select('addressBookId', f.addressBookId ?? String(writable.find(b => b.kind === 'personal')?.id ?? ''), writable.map(b => [String(b.id), b.name]))) : ''}
        ${field('kind', t('contacts.kind'), select('kind', f.kind ?? 'person', [['person', t('contacts.kind.person')], ['company', t('contacts.kind.company')]]))}</div>
      <div class="row">${field('givenName', t('contacts.givenName'), input('givenName', f.givenName ?? ''))}${field('familyName', t('contacts.familyName'), input('familyName', f.familyName ?? ''))}</div>
      ${field('displayName', t('contacts.displayName'), input('displayName', f.displayName ?? ''))}
      <div class="row">${field('organization', t('contacts.organization'), input('organization', f.organization ?? ''))}
        ${field('companyId', t('contacts.company'), select('companyId', f.companyId ?? '', [['', t('common.none')], ...companies.items.filter(c => c.id !== o.contact?.id).map(c => [String(c.id), c.displayName] as [string, string])]))}
        ${field('jobTitle', t('contacts.jobTitle'), input('jobTitle', f.jobTitle ?? ''))}</div>
      <div class="row">${field('emails', t('contacts.emails'), area('emails', f.emails ?? ''))}${field('phones', t('contacts.phones'), area('phones', f.phones ?? ''))}</div>
      ${field('websites', t('contacts.websites'), area('websites', f.websites ?? '', 2))}
      <div class="row">${field('street', t('contacts.street'), input('street', f.street ?? ''))}${field('postalCode', t('contacts.postalCode'), input('postalCode', f.postalCode ?? ''))}
        ${field('locality', t('contacts.locality'), input('locality', f.locality ?? ''))}${field('country', t('contacts.country'), input('country', f.country ?? ''))}</div>
      ${field('birthday', t('contacts.birthday'), input('birthday', f.birthday ?? ''))}
      <fieldset><legend>${t('contacts.cases')}</legend>${cases.map(c => html`<label><input type="checkbox" name="case-${String(c.id)}"${f[`case-${c.id}`] === 'on' ? html` checked` : ''}> ${c.title}</label> `)}</fieldset>
      ${field('notes', t('contacts.notes'), area('notes', f.notes ?? '', 4))}
      <div class="toolbar"><button type="submit">${t('common.save')}</button> <a href="/contacts">${t('common.cancel')}</a></div>
    </form>
    ${o.contact === undefined || readOnly ? '' : postButton(`/contacts/${String(o.contact.id)}/delete`, s.csrf, t('common.delete'), { cls: 'danger' })}`
    return web.render(request, reply, { title: o.contact === undefined ? t('contacts.new') : t('contacts.edit'), current: '/contacts', error: o.error ?? null, body: markInvalid(invalid, body) }, o.status ?? 200)
  }

  const again = (request: FastifyRequest, reply: FastifyReply, f: Form, contact?: ContactView) =>
    (err: DomainError) => formPage(request, reply, { ...(contact === undefined ? {} : { contact }), form: f, error: reasonOf(err, LABELS, labelled(err.field)), ...(labelled(err.field) === undefined ? {} : { invalid: labelled(err.field)! }), status: err.status })

  app.get('/contacts/new', async (request, reply) => formPage(request, reply, { form: {} }))

  app.post('/contacts', async (request, reply) => {
    const f = web.form(request)
    return saving(async () => {
      await createContact(k.db, web.actor(request), inputOf(f, null))
      return reply.code(303).header('location', '/contacts?done=saved').send()
    }, again(request, reply, f))
  })

  app.get('/contacts/:id/edit', async (request, reply) => {
    const c = await getContact(k.db, web.session(request).user, idParam(request))
    return formPage(request, reply, { contact: c, form: formOf(c) })
  })

  app.post('/contacts/:id', async (request, reply) => {
    const c = await getContact(k.db, web.session(request).user, idParam(request))
    const f = web.form(request)
    return saving(async () => {
      const version = Number(f.version)
      await updateContact(k.db, web.actor(request), c.id, inputOf(f, c), Number.isInteger(version) && version > 0 ? { ifVersion: version } : {})
      return reply.code(303).header('location', '/contacts?done=saved').send()
    }, again(request, reply, f, c))
  })

  app.post('/contacts/:id/delete', async (request, reply) => {
    await deleteContact(k.db, web.actor(request), idParam(request))
    return reply.code(303).header('location', '/contacts?done=deleted').send()
  })
}
