import t from 'tap';
import { Csdl } from './csdl.ts';

t.test('the CSDL check finds what Graph would not send', async (t) => {
  const csdl = Csdl.load();
  t.same(csdl.check({ id: 'x', changeKey: 'k', subject: 's', type: 'occurrence', '@odata.etag': 'W/"k"' }, 'microsoft.graph.event'), [], 'inherited (outlookItem, entity) and own properties; annotations skipped');
  t.match(csdl.check({ foo: 1 }, 'microsoft.graph.event'), ['$.foo: not a property of microsoft.graph.event']);
  t.match(csdl.check({ showAs: 'bogus' }, 'microsoft.graph.event'), [/'bogus' is not a member of microsoft.graph.freeBusyStatus/]);
  t.match(csdl.check({ status: null }, 'microsoft.graph.todoTask'), [/Nullable="false"/]);
  t.match(csdl.check({ value: [{ subscriptionId: 'nope' }] }, 'microsoft.graph.changeNotificationCollection'), [/expected a GUID/]);
  t.match(csdl.check({ start: { dateTime: 1 } }, 'microsoft.graph.event'), [/\$\.start\.dateTime: expected a string/]);
});
