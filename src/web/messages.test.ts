import t from 'tap'
import { LANGS } from './locale.ts'
import { AREAS, en, TABLES } from './messages.ts'

/**
 * Every text in all five languages: the base tables of locales/ and every
 * area module listed in AREAS (messages-<area>.ts), with the same
 * placeholders as the English, and no English key that no language has.
 */
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map(m => m[1]).sort()

t.test('every key in every language, with the same placeholders', async t => {
  const keys = Object.keys(TABLES.en)
  t.ok(keys.length > 400, 'the English table has every base and area key')
  for (const lang of LANGS) {
    const table = TABLES[lang]
    const missing = keys.filter(k => typeof table[k] !== 'string' || table[k]!.trim() === '')
    t.same(missing, [], `${lang}: no key missing`)
    const extra = Object.keys(table).filter(k => !Object.hasOwn(TABLES.en, k))
    t.same(extra, [], `${lang}: no key that English lacks (a typo)`)
    const wrong = keys.filter(k => typeof table[k] === 'string' && placeholders(table[k]!).join() !== placeholders(TABLES.en[k]!).join())
    t.same(wrong, [], `${lang}: the same placeholders as English`)
    const steps = keys.filter(k => typeof table[k] === 'string' && table[k]!.split('|').length !== TABLES.en[k]!.split('|').length)
    t.same(steps, [], `${lang}: as many steps (|) as English`)
  }
})

t.test('every area module has all five languages with the same keys', async t => {
  for (const area of AREAS) {
    const keys = Object.keys(area.en).sort()
    for (const key of keys) t.ok(Object.hasOwn(en, key), `${key} is spread into en, so t() accepts it`)
    for (const lang of LANGS) t.same(Object.keys(area[lang] ?? {}).sort(), keys, `${lang} has the area's keys`)
  }
})

t.test('translations are translated: most texts differ from English', async t => {
  for (const lang of LANGS.filter(l => l !== 'en')) {
    const keys = Object.keys(TABLES.en).filter(k => TABLES.en[k]!.length > 12)
    const same = keys.filter(k => TABLES[lang][k] === TABLES.en[k])
    t.ok(same.length < keys.length / 20, `${lang}: only proper names are left as in English (${same.join(', ')})`)
  }
})
