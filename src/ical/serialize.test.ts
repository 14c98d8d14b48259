import t from 'tap';
import { foldLine, unfold, serialize } from './serialize.ts';
import { parseObject } from './parse.ts';
import { cal, vevent } from './testing.ts';

const octets = (s: string): number => Buffer.byteLength(s, 'utf8');

t.test('folds at 75 octets, continuation space included, never inside a UTF-8 sequence', async (t) => {
  const line = 'SUMMARY:' + 'żółć 😀 '.repeat(40);
  const folded = foldLine(line);
  const physical = folded.split('\r\n');
  t.ok(physical.length > 3);
  for (const p of physical) t.ok(octets(p) <= 75, `${octets(p)} octets`);
  t.notOk(folded.includes('\uFFFD'));
  t.equal(unfold(folded + '\r\n')[0], line, 'unfolding restores the line');
  t.equal(foldLine('X:' + 'a'.repeat(73)), 'X:' + 'a'.repeat(73), 'exactly 75 octets stays on one line');
  t.equal(foldLine('X:' + 'a'.repeat(74)).split('\r\n').length, 2);
});

t.test('serialize writes CRLF and folded lines that parse back', async (t) => {
  const o = parseObject(cal(vevent('UID:s', 'DTSTART:20260101T100000Z', 'DESCRIPTION:' + 'ą'.repeat(100))));
  const text = serialize(o.vcalendar);
  t.notMatch(text, /[^\r]\n/, 'only CRLF');
  t.ok(text.endsWith('END:VCALENDAR\r\n'));
  for (const p of text.split('\r\n')) t.ok(octets(p) <= 75);
  t.equal(parseObject(text).index.description, 'ą'.repeat(100));
});
