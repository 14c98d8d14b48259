// The floor under any HTTP benchmark on this machine: a bare node:http server
// answering "hello" (no framework, no database, no sign-in) in its own
// process, driven by the same kind of client as bench-caldav.ts (node:http,
// keep-alive), back to back by 1 and by 4 clients, 3 rounds of 1 s each;
// then one client with and without a 300 ms pause before each request (the
// pause bench-caldav's interleaved timings leave between two requests).
//
//   node scripts/bench-http-floor.ts [--fastify] [--clients=1,4] [--no-pause]
//
// --fastify: the same "hello" from a bare Fastify app instead. --clients: the
// concurrencies to measure. --no-pause: throughput only. The last line,
// `floor {"1": …}`, gives the median round per concurrency (requests/s) for
// bench-caldav.ts, which runs this in its own run for the GET targets.
//
// docs/performance.md compares it with what 100× Radicale's GET would need.
import http from 'node:http'
import { spawn } from 'node:child_process'

const withFastify = process.argv.includes('--fastify')
const clientCounts = (process.argv.find(a => a.startsWith('--clients='))?.split('=')[1] ?? '1,4').split(',').map(Number)
const medians: Record<number, number> = {}
const server = withFastify
  ? `const f = require(${JSON.stringify(new URL('../node_modules/fastify/fastify.js', import.meta.url).pathname)})(); f.get('/', async () => 'hello'); f.listen({ port: 0, host: '127.0.0.1' }).then(() => console.log(f.server.address().port))`
  : "const s = require('node:http').createServer((q, r) => { r.writeHead(200, { 'content-type': 'text/plain' }); r.end('hello') }); s.listen(0, '127.0.0.1', () => console.log(s.address().port))"
const child = spawn(process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] })
const port = await new Promise<number>(resolve => child.stdout!.once('data', d => resolve(Number(String(d).trim()))))
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
const get = () => new Promise<void>((resolve, reject) => {
  const r = http.request({ host: '127.0.0.1', port, path: '/', agent }, res => { res.resume(); res.on('end', resolve) })
  r.on('error', reject)
  r.end()
})
console.log(`# bare ${withFastify ? 'Fastify' : 'node:http'} "hello", Node ${process.version}`)
for (const clients of clientCounts) {
  const rates: number[] = []
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now()
    let n = 0
    await Promise.all(Array.from({ length: clients }, async () => { while (performance.now() - t0 < 1000) { await get(); n++ } }))
    rates.push(n / ((performance.now() - t0) / 1000))
    console.log(`${clients} client${clients === 1 ? ' ' : 's'}: ${rates.at(-1)!.toFixed(0)} requests/s`)
  }
  medians[clients] = [...rates].sort((a, b) => a - b)[1]!
}
for (const gap of process.argv.includes('--no-pause') ? [] : [0, 300, 0, 300]) {
  const times: number[] = []
  for (let i = 0; i < 40; i++) {
    if (gap > 0) await new Promise(resolve => setTimeout(resolve, gap))
    const t0 = performance.now()
    await get()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  console.log(`pause ${String(gap).padStart(3)} ms before each request: median ${(times[20]! * 1000).toFixed(0)} µs`)
}
console.log(`floor ${JSON.stringify(medians)}`)
child.kill()
agent.destroy()
