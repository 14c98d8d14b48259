import t from 'tap'
import { MultistatusWriter, caldav, dav, type QName } from '../dav/xml/index.ts'
import type { ObjectRow } from '../domain/calendar-objects.ts'
import type { DavCalendar } from './backend.ts'
import { encodedCollection, memberHref, memberPlan, memberXml } from './member-xml.ts'
import { propertiesOf } from './properties.ts'
import { propResponse } from './respond.ts'
import type { Ctx } from './resources.ts'

// The text written straight off the row must be the general path's, byte for byte.
const cal = { id: 1, access: 'owner', ownerLogin: 'alice', segment: 'calendar', dead_props: null } as unknown as DavCalendar
const ical = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a&b\r\nSUMMARY:<Tom & "Jerry">\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'
const obj: ObjectRow = { id: 7, calendar_id: 1, name: 'a b@ü.ics', uid: 'a&b', component: 'VTODO', etag: '"x&y"', size: 99, updated_at: new Date('2026-03-04T05:06:07Z'), modified_seq: 3, item_kind: 'appointment', item_id: 1, ical }
const href = '/dav/calendars/alice/calendar/a b@ü.ics'

const selections: QName[][] = [
  [dav('getetag')],
  [dav('getetag'), dav('getcontenttype'), dav('resourcetype')],
  [dav('resourcetype'), dav('getlastmodified'), dav('getcontentlength'), dav('getetag'), dav('getetag')],
  [dav('getetag'), caldav('calendar-data')],
  [caldav('calendar-data'), dav('getcontenttype')],
  []
]

for (const props of selections) {
  t.test(`the same text for ${props.map(p => p.split('}')[1]).join(', ') || 'no properties'}`, async t => {
    const sel = { kind: 'prop' as const, props }
    const general = new MultistatusWriter()
    const { found, missing } = await propertiesOf({} as Ctx, { kind: 'object', path: href, cal, obj }, sel)
    general.add(propResponse(href, found, missing))
    const plan = memberPlan(sel)
    t.not(plan, null)
    const text = memberXml(memberHref(encodedCollection('/dav/calendars/alice/calendar/'), obj.name), plan!, obj, ical)
    t.not(text, null)
    const direct = new MultistatusWriter()
    direct.addWritten(text!, plan!.namespaces)
    t.equal(direct.finish('tok'), general.finish('tok'))
  })
}

t.test('selections with anything not on the row, and calendar-data without a body, take the general path', async t => {
  t.equal(memberPlan({ kind: 'prop', props: [dav('getetag'), dav('owner')] }), null)
  t.equal(memberPlan({ kind: 'allprop', include: [] }), null)
  t.equal(memberPlan({ kind: 'propname' }), null)
  t.equal(memberXml(href, memberPlan({ kind: 'prop', props: [caldav('calendar-data')] })!, obj, undefined), null)
})

t.test('a row read without updated_at (a MemberRow) makes no getlastmodified: the general path answers it', async t => {
  const row = { name: obj.name, etag: obj.etag, component: obj.component, size: obj.size, updated_at: null }
  t.equal(memberXml(href, memberPlan({ kind: 'prop', props: [dav('getetag'), dav('getlastmodified')] })!, row, undefined), null)
  t.equal(memberXml(href, memberPlan({ kind: 'prop', props: [dav('getetag')] })!, row, undefined), memberXml(href, memberPlan({ kind: 'prop', props: [dav('getetag')] })!, obj, undefined))
})
