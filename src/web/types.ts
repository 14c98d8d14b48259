import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ItemKind } from '../db/schema.ts'
import { createItemType, listItemTypes, updateItemType } from '../domain/cases.ts'
import { adminTabs, requireAdminSession } from './admin.ts'
import { html } from './html.ts'
import { reasonOf, saving } from './items.ts'
import { csrfField, postButton, swatch } from './layout.ts'
import { t } from './messages.ts'
import { idParam } from './params.ts'
import type { Web } from './plugin.ts'

/** Administrators manage the organisation's appointment and task types: add, rename, recolour, retire. */
const KINDS: ItemKind[] = ['appointment', 'task']
const DEFAULT_COLOUR = '#0b5cad'

export function typeRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  async function typesPage (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: string } = {}, status = 200) {
    const s = requireAdminSession(web, request)
    const types = await listItemTypes(k.db, s.user)
    return web.render(request, reply, {
      title: t('types.title'), current: '/admin/types', notice: extra.notice ?? null, error: extra.error ?? null,
      body: html`${adminTabs('/admin/types')}
      ${KINDS.map(kind => {
        const list = types.filter(ty => ty.applies_to === kind)
        return html`<section class="card" aria-labelledby="types-${kind}"><h2 id="types-${kind}">${t(`types.${kind}`)}</h2>
        ${list.length === 0 ? html`<p class="muted">${t('types.none')}</p>` : html`<div class="table-wrap"><table class="list"><tbody>
        ${list.map(ty => html`<tr${ty.retired ? html` class="retired"` : ''}><td>${swatch(ty.color)}<span>${ty.name}</span>${ty.retired ? html` <span class="muted">(${t('types.retired')})</span>` : ''}</td>
          <td><form method="post" action="/admin/types/${ty.id}" class="inline">${csrfField(s.csrf)}
            <label class="visually-hidden" for="type-name-${ty.id}">${t('types.nameOf', { name: ty.name })}</label>
            <input type="text" id="type-name-${ty.id}" name="name" value="${ty.name}" required maxlength="200">
            <label class="visually-hidden" for="type-color-${ty.id}">${t('types.colourOf', { name: ty.name })}</label>
            <input type="color" id="type-color-${ty.id}" name="color" value="${ty.color ?? DEFAULT_COLOUR}">
            <button type="submit" class="secondary">${t('common.save')}</button></form>
            ${postButton(`/admin/types/${ty.id}/${ty.retired ? 'restore' : 'retire'}`, s.csrf, ty.retired ? t('types.restore') : t('types.retire'), { aria: t(ty.retired ? 'types.restoreOf' : 'types.retireOf', { name: ty.name }) })}</td></tr>`)}
        </tbody></table></div>`}</section>`
      })}
      <section class="card" aria-labelledby="types-new"><h2 id="types-new">${t('types.add')}</h2>
        <form method="post" action="/admin/types" class="inline">${csrfField(s.csrf)}
          <div class="field"><label for="new-type-name">${t('types.name')}</label><input type="text" id="new-type-name" name="name" required maxlength="200"></div>
          <div class="field"><label for="new-type-kind">${t('types.for')}</label><select id="new-type-kind" name="appliesTo">${KINDS.map(kind => html`<option value="${kind}">${t(`types.${kind}`)}</option>`)}</select></div>
          <div class="field"><label for="new-type-color">${t('types.colour')}</label><input type="color" id="new-type-color" name="color" value="${DEFAULT_COLOUR}"></div>
          <button type="submit">${t('types.add')}</button></form></section>`
    }, status)
  }

  app.get('/admin/types', async (request, reply) => typesPage(request, reply))

  const again = (request: FastifyRequest, reply: FastifyReply) => async (err: Parameters<typeof reasonOf>[0]) => typesPage(request, reply, { error: reasonOf(err) }, err.status)

  app.post('/admin/types', async (request, reply) => {
    const f = web.form(request)
    return saving(async () => {
      const row = await createItemType(k.db, web.actor(request), { name: f.name, appliesTo: f.appliesTo as ItemKind, color: f.color })
      return typesPage(request, reply, { notice: t('types.added', { name: row.name }) })
    }, again(request, reply))
  })

  app.post('/admin/types/:id', async (request, reply) => {
    const f = web.form(request)
    return saving(async () => {
      const row = await updateItemType(k.db, web.actor(request), idParam(request), { name: f.name, color: f.color })
      return typesPage(request, reply, { notice: t('types.saved', { name: row.name }) })
    }, again(request, reply))
  })

  for (const [action, retired] of [['retire', true], ['restore', false]] as const) {
    app.post(`/admin/types/:id/${action}`, async (request, reply) => saving(async () => {
      const row = await updateItemType(k.db, web.actor(request), idParam(request), { retired })
      return typesPage(request, reply, { notice: t(retired ? 'types.retiredDone' : 'types.restoredDone', { name: row.name }) })
    }, again(request, reply)))
  }
}
