import t from 'tap'
import { NS, parse } from './ews-xml.ts'
import { allDayDate, allDayInstant, ewsZoneElement, fromGraphDateTime, ianaFromWindows, toGraphDateTime, windowsFromIana, zoneOfDefinition } from './zones.ts'

t.test('Windows ids and IANA zones both ways, with newer IANA names and UTC', async t => {
  t.equal(windowsFromIana('Europe/Berlin'), 'W. Europe Standard Time')
  t.equal(windowsFromIana('America/New_York'), 'Eastern Standard Time')
  t.equal(windowsFromIana('Europe/Kyiv'), 'FLE Standard Time', 'renamed after the CLDR table')
  t.equal(windowsFromIana('UTC'), 'UTC')
  t.equal(windowsFromIana('Etc/UTC'), 'UTC')
  t.equal(windowsFromIana('Mars/Olympus_Mons'), null)
  t.equal(ianaFromWindows('W. Europe Standard Time'), 'Europe/Berlin')
  t.equal(ianaFromWindows('Eastern Standard Time'), 'America/New_York')
  t.equal(ianaFromWindows('Europe/Paris'), 'Europe/Paris', 'Graph may echo IANA names')
  t.equal(ianaFromWindows('UTC'), 'UTC')
  t.equal(ianaFromWindows('Customized Time Zone'), null)
})

const def = (xml: string) => parse(xml.replace(/^<t:(\w+)/, `<t:$1 xmlns:t="${NS.t}"`))

t.test('a TimeZoneDefinition by its Id; an unknown one is custom: a fixed offset when it has one period, else UTC', async t => {
  t.same(zoneOfDefinition(def('<t:StartTimeZone Id="W. Europe Standard Time" Name="(UTC+01:00) Amsterdam, Berlin"/>')), { iana: 'Europe/Berlin', windowsId: 'W. Europe Standard Time', custom: false })
  t.same(zoneOfDefinition(def('<t:StartTimeZone Id="Customized Time Zone"><t:Periods><t:Period Bias="-PT5H30M" Name="Standard" Id="std"/></t:Periods></t:StartTimeZone>')), { iana: 'UTC', windowsId: 'Customized Time Zone', custom: true }, 'half hours have no Etc/GMT zone')
  t.same(zoneOfDefinition(def('<t:StartTimeZone Id="Customized Time Zone"><t:Periods><t:Period Bias="-PT3H" Name="Standard" Id="std"/></t:Periods></t:StartTimeZone>')), { iana: 'Etc/GMT-3', windowsId: 'Customized Time Zone', custom: true }, 'UTC+3: Bias -3h')
  t.same(zoneOfDefinition(def('<t:StartTimeZone Id="Customized Time Zone"><t:Periods><t:Period Bias="PT5H" Name="Standard" Id="s"/><t:Period Bias="PT4H" Name="Daylight" Id="d"/></t:Periods></t:StartTimeZone>')).iana, 'UTC', 'with daylight saving: UTC')
  t.same(zoneOfDefinition(def('<t:MeetingTimeZone TimeZoneName="Old Custom"><t:BaseOffset>PT8H</t:BaseOffset></t:MeetingTimeZone>')), { iana: 'Etc/GMT+8', windowsId: 'Old Custom', custom: true }, "Exchange 2007's MeetingTimeZone")
  t.equal(ewsZoneElement('StartTimeZone', 'Europe/Berlin'), '<t:StartTimeZone Id="W. Europe Standard Time"/>')
})

t.test('all-day items are dates in the CRM, midnight instants at Exchange, across DST', async t => {
  t.equal(allDayInstant('2026-03-29', 'Europe/Berlin'), '2026-03-28T23:00:00.000Z')
  t.equal(allDayInstant('2026-03-30', 'Europe/Berlin'), '2026-03-29T22:00:00.000Z')
  t.equal(allDayDate('2026-03-29T22:00:00Z', 'Europe/Berlin'), '2026-03-30')
  t.equal(allDayDate(allDayInstant('2026-11-01', 'America/New_York'), 'America/New_York'), '2026-11-01')
})

t.test("Graph's dateTimeTimeZone in the zone's wall clock and back", async t => {
  t.same(toGraphDateTime('2026-07-01T07:00:00.000Z', 'Europe/Berlin'), { dateTime: '2026-07-01T09:00:00.0000000', timeZone: 'W. Europe Standard Time' })
  t.equal(fromGraphDateTime({ dateTime: '2026-07-01T09:00:00.0000000', timeZone: 'W. Europe Standard Time' }), '2026-07-01T07:00:00.000Z')
  t.equal(fromGraphDateTime({ dateTime: '2026-01-01T09:00:00.0000000', timeZone: 'Europe/Berlin' }), '2026-01-01T08:00:00.000Z')
  t.equal(fromGraphDateTime({ dateTime: '2026-01-01T09:00:00.0000000', timeZone: 'UTC' }), '2026-01-01T09:00:00.000Z')
})
