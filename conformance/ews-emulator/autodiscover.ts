import { AUTODISCOVER_NS } from '../../src/sync/ews/autodiscover.ts'
import { esc, parse } from '../../src/sync/microsoft/ews-xml.ts'
import type { Store } from './store.ts'

/**
 * POX Autodiscover (POST /autodiscover/autodiscover.xml) as Exchange answers
 * it (web-service-reference/pox-autodiscover-request-for-exchange.md,
 * pox-autodiscover-response-for-exchange.md): for a mailbox of the store,
 * the EXCH and EXPR protocols with this emulator's EWS URL (EwsUrl and
 * ASUrl); for an unknown address, error 500 "The e-mail address cannot be
 * found."; for a body that is not a request, error 600 "Invalid Request".
 * The caller must be signed in, as for EWS.
 */
export const AUTODISCOVER_PATH = '/autodiscover/autodiscover.xml'

const errorXml = (code: number, message: string): string => '<?xml version="1.0" encoding="utf-8"?>' +
  `<Autodiscover xmlns="${AUTODISCOVER_NS.base}"><Response xmlns="${AUTODISCOVER_NS.base}">` +
  `<Error Time="00:00:00.0000000" Id="2477273696"><ErrorCode>${code}</ErrorCode><Message>${message}</Message><DebugData /></Error></Response></Autodiscover>`

export function autodiscover (store: Store, body: string, ewsUrl: string): { status: number; xml: string } {
  let email: string | undefined
  try {
    const root = parse(body)
    if (root.ns !== AUTODISCOVER_NS.request) throw new Error('not a request')
    email = root.children.find(c => c.name === 'Request')?.children.find(c => c.name === 'EMailAddress')?.text.trim().toLowerCase()
  } catch {}
  if (email === undefined || email === '') return { status: 200, xml: errorXml(600, 'Invalid Request') }
  const mailbox = store.mailboxes.get(email)
  if (mailbox === undefined) return { status: 200, xml: errorXml(500, 'The e-mail address cannot be found.') }
  const urls = `<ASUrl>${esc(ewsUrl)}</ASUrl><EwsUrl>${esc(ewsUrl)}</EwsUrl>`
  return {
    status: 200,
    xml: '<?xml version="1.0" encoding="utf-8"?>' +
      `<Autodiscover xmlns="${AUTODISCOVER_NS.base}"><Response xmlns="${AUTODISCOVER_NS.response}">` +
      `<User><DisplayName>${esc(mailbox.name)}</DisplayName><AutoDiscoverSMTPAddress>${esc(mailbox.smtp)}</AutoDiscoverSMTPAddress></User>` +
      '<Account><AccountType>email</AccountType><Action>settings</Action>' +
      `<Protocol><Type>EXCH</Type><Server>emulator.local</Server><ServerVersion>73C18880</ServerVersion>${urls}</Protocol>` +
      `<Protocol><Type>EXPR</Type><Server>127.0.0.1</Server>${urls}</Protocol>` +
      '</Account></Response></Autodiscover>'
  }
}
