// Creates appointments through the REST API and reads them back by date range.
// Usage: node scripts/bench-api.ts [count=10000] [concurrency=8]
// Uses PGlite in memory, or PostgreSQL when KALENDS_TEST_DATABASE_URL is set.
import { startServer } from '../src/testing/harness.ts'

const count = Number(process.argv[2] ?? 10_000)
const concurrency = Number(process.argv[3] ?? 8)
const s = await startServer({ users: ['alice'] })
const alice = s.as('alice')
const db = process.env.KALENDS_TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'
console.log(`# ${count} appointments, ${concurrency} concurrent clients, ${db}, Node ${process.version}`)

const DAY = 86_400_000
const base = Date.UTC(2026, 0, 1, 8)
let next = 0
let createdAt = performance.now()
async function creator () {
  while (next < count) {
    const i = next++
    const start = base + Math.floor(i / 10) * DAY + (i % 10) * 3_600_000
    const res = await alice('/api/v1/appointments', {
      method: 'POST',
      json: { title: `Appointment ${i}`, start: new Date(start).toISOString(), end: new Date(start + 1_800_000).toISOString(), timezone: 'Europe/Warsaw', ...(i % 7 === 0 ? { rrule: 'FREQ=WEEKLY;COUNT=10' } : {}) }
    })
    if (res.status !== 201) throw new Error(`create ${i}: ${res.status} ${JSON.stringify(res.body_)}`)
    if ((i + 1) % 2000 === 0) console.log(`  created ${i + 1}/${count}`)
  }
}
createdAt = performance.now()
await Promise.all(Array.from({ length: concurrency }, creator))
const createSeconds = (performance.now() - createdAt) / 1000
console.log(`create: ${(count / createSeconds).toFixed(0)} appointments/s (${createSeconds.toFixed(1)} s)`)

// read everything back month by month, following the cursor
const readStart = performance.now()
let read = 0
let requests = 0
const months = Math.ceil(count / 10 / 30) + 1
for (let m = 0; m < months; m++) {
  const from = new Date(Date.UTC(2026, m, 1)).toISOString()
  const to = new Date(Date.UTC(2026, m + 1, 1)).toISOString()
  let cursor: string | null = null
  do {
    const q: string = `/api/v1/appointments?from=${from}&to=${to}&limit=500${cursor === null ? '' : `&cursor=${cursor}`}`
    const res = await alice(q)
    requests++
    const body = res.body_ as { items: unknown[]; nextCursor: string | null }
    read += body.items.length
    cursor = body.nextCursor
  } while (cursor !== null)
}
const readSeconds = (performance.now() - readStart) / 1000
console.log(`read by month: ${(read / readSeconds).toFixed(0)} appointments/s (${read} rows incl. recurring overlaps, ${requests} requests, ${readSeconds.toFixed(1)} s)`)

const one = performance.now()
const n = 200
for (let i = 0; i < n; i++) await alice(`/api/v1/appointments?from=2026-03-01T00:00:00Z&to=2026-03-08T00:00:00Z&limit=100`)
console.log(`one-week range query: ${(n / ((performance.now() - one) / 1000)).toFixed(0)} requests/s`)
await s.close()
