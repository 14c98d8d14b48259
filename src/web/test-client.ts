import { PASSWORD, type TestServer } from '../testing/harness.ts'

/** A browser-less client of the web pages for HTTP tests: a cookie jar, forms posted with the page's token. */
export class WebClient {
  readonly s: Pick<TestServer, 'url'>
  readonly cookies = new Map<string, string>()
  csrf = ''
  /** more request headers, such as the browser's Accept-Language */
  headers: Record<string, string>

  constructor (s: Pick<TestServer, 'url'>, headers: Record<string, string> = {}) { this.s = s; this.headers = headers }

  get cookieHeader (): string { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }

  #keep (res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      if (value === '' || attrs.some(a => /max-age=0/i.test(a))) this.cookies.delete(name); else this.cookies.set(name, value)
    }
  }

  async get (path: string): Promise<{ status: number; location: string | null; text: string; res: Response }> {
    const res = await fetch(this.s.url + path, { headers: { ...this.headers, cookie: this.cookieHeader }, redirect: 'manual' })
    this.#keep(res)
    const text = await res.text()
    const token = /name="_csrf" value="([^"]+)"/.exec(text)
    if (token !== null) this.csrf = token[1]!
    return { status: res.status, location: res.headers.get('location'), text, res }
  }

  async post (path: string, fields: Record<string, string>, opts: { csrf?: string | null } = {}) {
    const body = new URLSearchParams(fields)
    const csrf = opts.csrf === undefined ? this.csrf : opts.csrf
    if (csrf !== null) body.set('_csrf', csrf)
    const res = await fetch(this.s.url + path, { method: 'POST', headers: { ...this.headers, cookie: this.cookieHeader, 'content-type': 'application/x-www-form-urlencoded' }, body, redirect: 'manual' })
    this.#keep(res)
    const text = await res.text()
    const token = /name="_csrf" value="([^"]+)"/.exec(text)
    if (token !== null) this.csrf = token[1]!
    return { status: res.status, location: res.headers.get('location'), text, res }
  }

  async signIn (login: string, password = PASSWORD) {
    await this.get('/sign-in')
    const res = await this.post('/sign-in', { login, password, next: '/week' })
    if (res.status === 303) await this.get('/week')
    return res
  }
}

/** A client signed in as `login`, on the Connections page (its form token in hand). */
export async function signedInClient (s: Pick<TestServer, 'url'>, login: string): Promise<WebClient> {
  const c = new WebClient(s)
  await c.signIn(login)
  await c.get('/connections')
  return c
}

/** The text of a page without tags, whitespace folded: what a reader sees. */
export const visible = (page: string) => page.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ')
