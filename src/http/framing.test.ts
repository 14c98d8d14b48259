import t from 'tap'
import { connect } from 'node:net'
import { startServer } from '../testing/harness.ts'

// Message framing Node's server leaves to us, spoken over raw sockets as a client could.
const s = await startServer({ users: ['alice'] })
t.teardown(() => s.close())
const port = Number(new URL(s.url).port)

/** Sends the bytes and gives back everything the server wrote until it closed the connection. */
function exchange (request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', chunk => { answer += chunk })
    socket.on('error', reject)
    socket.on('close', () => resolve(answer))
  })
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1])
const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4)

t.test('a request with two Host header fields is answered 400 and the connection closed (RFC 9112 §3.2)', async t => {
  for (const [path, method] of [['/healthz', 'GET'], ['/dav/', 'PROPFIND'], ['/api/v1/appointments', 'GET']]) {
    // a second request follows on the same connection: it must not be answered
    const answer = await exchange(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: other.example\r\nContent-Length: 0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    t.equal(statusOf(answer), 400, `${method} ${path}`)
    t.match(answer, /\r\ncontent-type: application\/problem\+json/i)
    t.match(JSON.parse(bodyOf(answer)), { status: 400, detail: /more than one Host/ })
    t.equal(answer.match(/^HTTP\/1\.1 /gm)?.length, 1, 'nothing more is read from that connection')
  }
  const one = await exchange('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  t.equal(statusOf(one), 200, 'one Host is fine')
})

t.test('CONNECT is answered 501 with a body instead of a closed connection', async t => {
  const answer = await exchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  t.equal(statusOf(answer), 501)
  t.match(answer, /\r\ncontent-type: application\/problem\+json/i)
  const body = bodyOf(answer)
  t.equal(Number(/\r\ncontent-length: (\d+)/i.exec(answer)?.[1]), Buffer.byteLength(body), 'the body is framed by its length')
  t.match(JSON.parse(body), { status: 501, title: 'Not implemented' })
  t.equal((await fetch(`${s.url}/healthz`)).status, 200, 'the server goes on serving')
})
