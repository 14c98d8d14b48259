import t from 'tap'
import { overridesIcal, overridesOf } from './overrides.ts'

const moved = {
  recurrenceId: '2026-03-30T07:00:00.000Z',
  title: `Quarterly review with ${'the whole regional sales team, '.repeat(6)}and guests`,
  start: '2026-03-30T09:00:00.000Z',
  end: '2026-03-30T10:00:00.000Z',
  location: 'Hall 3',
  description: 'Moved, room changed'
}

t.test('overrides written for the domain are folded content lines that read back the same', async t => {
  const text = overridesIcal('series-1', 'Europe/Warsaw', [moved])
  const long = text.split('\r\n').filter(l => Buffer.byteLength(l) > 75)
  t.same(long, [], 'no line is longer than 75 octets (RFC 5545 §3.1)')
  t.match(text, /\r\nRECURRENCE-ID;TZID=Europe\/Warsaw:20260330T090000\r\n/, 'RECURRENCE-ID on the series\' wall clock')
  const back = overridesOf(text)
  t.same(back, [moved], 'the title unfolds back whole')
})
