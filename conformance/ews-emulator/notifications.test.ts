import t from 'tap'
import { basic, codeOf, envelope, find, findAll, messages, post, startChecked } from './test-helpers.ts'
import type { EwsEmulator } from './server.ts'
import { child, childrenOf, NS, parse, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

const ALICE = 'alice@example.com'
const TIMES = '<t:Start>2026-05-01T10:00:00Z</t:Start><t:End>2026-05-01T11:00:00Z</t:End>'
const EVENTS = '<t:EventTypes><t:EventType>CreatedEvent</t:EventType><t:EventType>ModifiedEvent</t:EventType><t:EventType>DeletedEvent</t:EventType><t:EventType>MovedEvent</t:EventType></t:EventTypes>'

// web-service-reference/subscribe-operation.md; exchange-web-services/how-to-stream-notifications-about-mailbox-events-by-using-ews-in-exchange.md
const subscribeStreaming = (folders = '<t:DistinguishedFolderId Id="calendar"/>') =>
  envelope(`<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds>${folders}</t:FolderIds>${EVENTS}</m:StreamingSubscriptionRequest></m:Subscribe>`)
const subscribePull = (minutes = 10) =>
  envelope(`<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>${EVENTS}<t:Timeout>${minutes}</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>`)
const getStreamingEvents = (ids: string[], minutes = 30) =>
  envelope(`<m:GetStreamingEvents><m:SubscriptionIds>${ids.map(id => `<t:SubscriptionId>${id}</t:SubscriptionId>`).join('')}</m:SubscriptionIds><m:ConnectionTimeout>${minutes}</m:ConnectionTimeout></m:GetStreamingEvents>`)

async function subscribe (em: EwsEmulator, xml = subscribeStreaming()): Promise<{ id: string; watermark: string | null }> {
  const m = messages(await post(em, xml))[0]
  return { id: child(m, NS.m, 'SubscriptionId')?.text ?? '', watermark: child(m, NS.m, 'Watermark')?.text ?? null }
}

/** A GetStreamingEvents connection: the envelopes as they arrive, and how the connection ended. */
function openStream (em: EwsEmulator, ids: string[], minutes = 30) {
  const envelopes: XmlElement[] = []
  const waiters: (() => void)[] = []
  const controller = new AbortController()
  const ended = (async () => {
    const res = await fetch(em.ewsUrl, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', authorization: basic(ALICE) }, body: getStreamingEvents(ids, minutes), signal: controller.signal })
    let buf = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += Buffer.from(chunk).toString('utf8')
        for (let end = buf.indexOf('</soap:Envelope>'); end >= 0; end = buf.indexOf('</soap:Envelope>')) {
          envelopes.push(parse(buf.slice(0, end + '</soap:Envelope>'.length)))
          buf = buf.slice(end + '</soap:Envelope>'.length)
          for (const w of waiters.splice(0)) w()
        }
      }
      return 'ended'
    } catch {
      return 'broken'
    } finally {
      for (const w of waiters.splice(0)) w()
    }
  })()
  const message = (e: XmlElement) => childrenOf(child(child(child(e, NS.soap, 'Body'), NS.m, 'GetStreamingEventsResponse'), NS.m, 'ResponseMessages'), NS.m)[0]
  return {
    envelopes,
    ended,
    abort: () => controller.abort(),
    messages: () => envelopes.map(message),
    /** waits for the n-th envelope (1-based) */
    async nth (n: number): Promise<XmlElement | undefined> {
      const deadline = Date.now() + 5000
      while (envelopes.length < n && Date.now() < deadline) await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 100) })
      return envelopes[n - 1] === undefined ? undefined : message(envelopes[n - 1]!)
    }
  }
}

t.test('a streaming subscription sends each change as it happens on one open connection', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const { id, watermark } = await subscribe(em)
  t.match(id, /^[A-Za-z0-9+/=]+$/, 'a SubscriptionId')
  t.equal(watermark, null, 'streaming subscriptions have no watermark')
  const s = openStream(em, [id])
  const hello = await s.nth(1)
  t.equal(hello?.attrs.ResponseClass, 'Success')
  t.equal(child(hello, NS.m, 'ConnectionStatus')?.text, 'OK', 'the connection says it is open')
  const item = em.userCreate(ALICE, 'calendar', 'CalendarItem', `<t:Subject>New</t:Subject>${TIMES}`)
  const created = await s.nth(2)
  const n = find(created, 'CreatedEvent')
  t.ok(n, 'a CreatedEvent')
  t.equal(find(n, 'ItemId')?.attrs.Id, item)
  t.equal(find(n, 'ParentFolderId')?.attrs.Id, em.folderId(ALICE, 'calendar'))
  t.equal(findAll(created, 'SubscriptionId')[0]?.text, id)
  em.userUpdate(item, '<t:Subject>Renamed</t:Subject>')
  t.ok(find(await s.nth(3), 'ModifiedEvent'), 'a ModifiedEvent')
  em.userCreate(ALICE, 'tasks', 'Task', '<t:Subject>elsewhere</t:Subject>')
  em.userDelete(item)
  t.ok(find(await s.nth(4), 'DeletedEvent'), 'a DeletedEvent; the tasks folder is not subscribed')
  t.equal(s.envelopes.length, 4)
  s.abort()
  await s.ended
})

t.test('a stream closes at its ConnectionTimeout with ConnectionStatus Closed; events in between wait for the next connection', async t => {
  const em = await startChecked({ notifications: { minuteMs: 150 } })
  t.teardown(() => em.close())
  const { id } = await subscribe(em)
  const s = openStream(em, [id], 1)
  t.equal(await s.ended, 'ended', 'the server ends the response')
  t.same(s.messages().map(m => child(m, NS.m, 'ConnectionStatus')?.text), ['OK', 'Closed'])
  const item = em.userCreate(ALICE, 'calendar', 'CalendarItem', `<t:Subject>While closed</t:Subject>${TIMES}`)
  const again = openStream(em, [id], 1)
  await again.nth(2)
  t.equal(find(again.envelopes[1], 'ItemId')?.attrs.Id, item, 'the queued event comes on the next connection')
  await again.ended
})

t.test('keep-alive: an idle stream says ConnectionStatus OK again', async t => {
  const em = await startChecked({ notifications: { keepAliveMs: 50 } })
  t.teardown(() => em.close())
  const { id } = await subscribe(em)
  const s = openStream(em, [id])
  const third = await s.nth(3)
  t.equal(child(third, NS.m, 'ConnectionStatus')?.text, 'OK')
  s.abort()
  await s.ended
})

t.test('an unknown or expired subscription: ErrorSubscriptionNotFound in the per-item error form, connection Closed', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const { id } = await subscribe(em)
  const s = openStream(em, [id])
  await s.nth(1)
  em.expireSubscriptions(id)
  t.equal(await s.ended, 'ended', 'an open stream of a lapsed subscription is closed')
  t.equal(child(s.messages().at(-1), NS.m, 'ConnectionStatus')?.text, 'Closed')
  const after = openStream(em, [id])
  t.equal(await after.ended, 'ended')
  const m = after.messages()[0]
  t.equal(m?.attrs.ResponseClass, 'Error')
  t.equal(codeOf(m), 'ErrorSubscriptionNotFound')
  t.same(childrenOf(child(m, NS.m, 'ErrorSubscriptionIds'), NS.t, 'SubscriptionId').map(e => e.text), [id])
  t.equal(child(m, NS.m, 'ConnectionStatus')?.text, 'Closed')
  t.same(em.subscriptions(), [])
})

t.test('a dropped connection is only a connection: the subscription lives and a new stream gets what happened meanwhile', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const { id } = await subscribe(em)
  const s = openStream(em, [id])
  await s.nth(1)
  t.equal(em.endStreams('dropped'), 1)
  t.equal(await s.ended, 'broken', 'no closing envelope')
  const item = em.userCreate(ALICE, 'calendar', 'CalendarItem', `<t:Subject>Meanwhile</t:Subject>${TIMES}`)
  const again = openStream(em, [id])
  await again.nth(2)
  t.equal(find(again.envelopes[1], 'ItemId')?.attrs.Id, item)
  again.abort()
  await again.ended
  t.equal(em.streamsOpened(), 2)
})

t.test('Unsubscribe ends the subscription and its streams; a second Unsubscribe answers ErrorSubscriptionNotFound', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const { id } = await subscribe(em)
  const s = openStream(em, [id])
  await s.nth(1)
  const unsubscribe = envelope(`<m:Unsubscribe><m:SubscriptionId>${id}</m:SubscriptionId></m:Unsubscribe>`)
  t.equal(codeOf(messages(await post(em, unsubscribe))[0]), 'NoError')
  t.equal(await s.ended, 'ended')
  t.same(em.subscriptions(), [])
  t.equal(codeOf(messages(await post(em, unsubscribe))[0]), 'ErrorSubscriptionNotFound')
})

t.test('a MovedEvent names the old item and folder', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const item = em.userCreate(ALICE, 'calendar', 'CalendarItem', `<t:Subject>To the bin</t:Subject>${TIMES}`)
  const { id } = await subscribe(em)
  const s = openStream(em, [id])
  await s.nth(1)
  const del = envelope(`<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="${item}"/></m:ItemIds></m:DeleteItem>`)
  t.equal(codeOf(messages(await post(em, del))[0]), 'NoError')
  const moved = find(await s.nth(2), 'MovedEvent')
  t.ok(moved, 'a MovedEvent')
  t.equal(find(moved, 'OldItemId')?.attrs.Id, item)
  t.equal(find(moved, 'OldParentFolderId')?.attrs.Id, em.folderId(ALICE, 'calendar'))
  t.equal(find(moved, 'ParentFolderId')?.attrs.Id, em.folderId(ALICE, 'deleteditems'))
  s.abort()
  await s.ended
})

t.test('pull: GetEvents returns the events after the watermark, a StatusEvent when none; a wrong watermark and a lapsed subscription are errors', async t => {
  const em = await startChecked({ notifications: { minuteMs: 100 } })
  t.teardown(() => em.close())
  const { id, watermark } = await subscribe(em, subscribePull(1))
  t.ok(watermark, 'a pull subscription starts with a watermark')
  const getEvents = (mark: string) => envelope(`<m:GetEvents><m:SubscriptionId>${id}</m:SubscriptionId><m:Watermark>${mark}</m:Watermark></m:GetEvents>`)
  let m = messages(await post(em, getEvents(watermark!)))[0]
  const status = find(m, 'StatusEvent')
  t.ok(status, 'nothing happened: a StatusEvent')
  let mark = find(status, 'Watermark')?.text ?? ''
  const item = em.userCreate(ALICE, 'calendar', 'CalendarItem', `<t:Subject>Pulled</t:Subject>${TIMES}`)
  em.userUpdate(item, '<t:Subject>Pulled 2</t:Subject>')
  m = messages(await post(em, getEvents(mark)))[0]
  t.same(childrenOf(child(m, NS.m, 'Notification'), NS.t).map(e => e.name), ['SubscriptionId', 'PreviousWatermark', 'MoreEvents', 'CreatedEvent', 'ModifiedEvent'])
  t.equal(find(m, 'PreviousWatermark')?.text, mark)
  mark = find(find(m, 'ModifiedEvent'), 'Watermark')?.text ?? ''
  t.equal(codeOf(messages(await post(em, getEvents('AAAA')))[0]), 'ErrorInvalidWatermark')
  await new Promise(resolve => setTimeout(resolve, 250))
  t.equal(codeOf(messages(await post(em, getEvents(mark)))[0]), 'ErrorSubscriptionNotFound', 'Timeout minutes without GetEvents: gone')
})

t.test('a ConnectionTimeout above 30 minutes is refused by the schema', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const { id } = await subscribe(em)
  const a = await post(em, getStreamingEvents([id], 31))
  t.equal(a.status, 500)
})
