import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { RUN_HEADER } from './run-header.ts'

/**
 * An HTTP proxy between sync and the Google emulator that watches runs from
 * the outside. Runs share the connection's kept access token, but every call
 * of a run names it (RUN_HEADER: connection id and a random part). Two runs
 * of a connection overlap when their spans (first request start to last
 * answer) intersect. It can also hold every answer back (latency) after
 * Google has acted on the request, to widen the time a run takes and the
 * window in which a killed process has written outside but not yet recorded it.
 * An https target (Graph's emulator) is reached trusting `ca`; with `rewrite`
 * the target's address in answers (Graph's nextLink and deltaLink) becomes
 * the proxy's, so a run's later pages come through it too.
 */
export type RunSpan = { connection: string; run: string; start: number; end: number; calls: number }

export type SyncProxy = {
  url: string
  target: string
  latencyMs: number
  /** a CA to trust for an https target */
  ca?: string
  /** answers name the proxy where they named the target */
  rewrite?: boolean
  spans (): RunSpan[]
  /** pairs of runs of one connection that were under way at the same time */
  overlaps (): [RunSpan, RunSpan][]
  close (): Promise<void>
}

export async function startSyncProxy (latencyMs = 0): Promise<SyncProxy> {
  const spans = new Map<string, RunSpan>()
  const body = async (s: IncomingMessage) => {
    const chunks: Buffer[] = []
    for await (const c of s) chunks.push(c as Buffer)
    return Buffer.concat(chunks)
  }
  const proxy: SyncProxy = {
    url: '',
    target: '',
    latencyMs,
    spans: () => [...spans.values()],
    overlaps () {
      const out: [RunSpan, RunSpan][] = []
      const byConn = new Map<string, RunSpan[]>()
      for (const s of spans.values()) byConn.set(s.connection, [...(byConn.get(s.connection) ?? []), s])
      for (const list of byConn.values()) {
        list.sort((a, b) => a.start - b.start)
        for (let i = 1; i < list.length; i++) {
          for (let j = 0; j < i; j++) if (list[j]!.end > list[i]!.start) out.push([list[j]!, list[i]!])
        }
      }
      return out
    },
    close: async () => { await new Promise(resolve => server.close(resolve)) }
  }
  const server: Server = createServer((req, res) => {
    void (async () => {
      const started = Date.now()
      const payload = await body(req)
      const run = req.headers[RUN_HEADER]
      const target = new URL(req.url ?? '/', proxy.target)
      const pass = async (up: IncomingMessage) => {
        let answer = await body(up)
        const headers = { ...up.headers }
        if (proxy.rewrite === true) {
          answer = Buffer.from(answer.toString('utf8').replaceAll(new URL(proxy.target).origin, proxy.url))
          headers['content-length'] = String(answer.length)
        }
        // slow on the way back: Google has done the work, the caller does not know yet
        if (proxy.latencyMs > 0) await new Promise(resolve => setTimeout(resolve, proxy.latencyMs))
        if (typeof run === 'string') {
          const span = spans.get(run) ?? { connection: run.split('.')[0]!, run, start: started, end: started, calls: 0 }
          span.end = Date.now()
          span.calls++
          spans.set(run, span)
        }
        res.writeHead(up.statusCode ?? 502, headers)
        res.end(answer)
      }
      // an answer cut off (the emulator stopped during a long-held Exchange stream) ends the caller's too
      const options = { method: req.method, headers: { ...req.headers, host: target.host }, ...(proxy.ca === undefined ? {} : { ca: proxy.ca }) }
      const answered = (up: IncomingMessage) => void pass(up).catch(() => res.destroy())
      const upstream = target.protocol === 'https:' ? httpsRequest(target, options, answered) : httpRequest(target, options, answered)
      upstream.on('error', () => { res.destroy() })
      upstream.end(payload)
    })().catch(() => res.destroy())
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = proxy.close
  proxy.close = async () => {
    server.closeAllConnections()
    await close()
  }
  return proxy
}
