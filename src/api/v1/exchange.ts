import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Kalends } from '../../app.ts'
import { requireAdmin } from '../../domain/access.ts'
import { viewOf } from '../../sync/connections.ts'
import { EWS_VERSIONS } from '../../sync/ews/client.ts'
import { connectExchange } from '../../sync/ews/connect.ts'
import { EWS_AUTH, loadExchangeIntegration, mergeExchangeIntegration, saveExchangeIntegration, type ExchangeIntegration } from '../../sync/ews/integration.ts'
import { rolloutStatus, type RolloutStatus } from '../../sync/ews/service-mode.ts'
import { discoverForAdmin, TEST_RESULTS, testExchange } from '../../sync/ews/setup.ts'

/**
 * Exchange over the API. The admin's organisation-wide set-up
 * (/integrations/exchange: read, save, test a draft, Autodiscover) and the
 * user's connect (/connections/exchange); the rest of a connection's life
 * (options, sync now, since, log, disconnect) is /connections/{id} as for
 * Google. Passwords are write-only.
 */
const literals = (list: readonly string[]) => Type.Union(list.map(v => Type.Literal(v)))
const settings = {
  enabled: Type.Optional(Type.Boolean()),
  ewsUrl: Type.Optional(Type.String({ maxLength: 2000, description: 'e.g. https://mail.example.com/EWS/Exchange.asmx; empty: each mailbox\'s is found by Autodiscover (SOAP, then POX)' })),
  version: Type.Optional(literals(EWS_VERSIONS)),
  auth: Type.Optional(literals(EWS_AUTH)),
  mode: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('service')], { description: 'user: each user connects with their own login; service: one service account with ApplicationImpersonation syncs every user' })),
  serviceUsername: Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()])),
  servicePassword: Type.Optional(Type.String({ maxLength: 1000, description: 'write-only; empty keeps the stored one' }))
}
const Integration = Type.Object(settings, { additionalProperties: false })
const TestLogin = {
  username: Type.Optional(Type.String({ maxLength: 300, description: 'per-user mode: a login to test with (not stored)' })),
  password: Type.Optional(Type.String({ maxLength: 1000, description: 'write-only, not stored' })),
  token: Type.Optional(Type.String({ maxLength: 10_000, description: 'bearer mode: an access token to test with (not stored)' }))
}
const Test = Type.Object({ ...settings, mailbox: Type.Optional(Type.String({ maxLength: 320, description: 'the mailbox to open; the admin\'s own address by default' })), ...TestLogin }, { additionalProperties: false })
const Autodiscover = Type.Object({ email: Type.String({ maxLength: 320 }), ...TestLogin }, { additionalProperties: false })
const Connect = Type.Object({
  account: Type.Optional(Type.String({ maxLength: 320, description: 'the mailbox\'s e-mail address; the user\'s own by default' })),
  username: Type.Optional(Type.String({ maxLength: 300, description: 'DOMAIN\\name or name@example.com; the address by default' })),
  password: Type.Optional(Type.String({ maxLength: 1000, description: 'write-only, stored sealed; none in service-account mode' })),
  token: Type.Optional(Type.String({ maxLength: 10_000, description: 'bearer mode: an access token' }))
}, { additionalProperties: false })
const TestAnswer = Type.Object({
  result: Type.String({ description: `one of ${TEST_RESULTS.join(', ')}` }),
  message: Type.String(),
  serverVersion: Type.Union([Type.String(), Type.Null()]),
  ewsUrl: Type.String(),
  mailbox: Type.String(),
  discovered: Type.Boolean({ description: 'the EWS URL was found by Autodiscover for the mailbox (none was set)' })
})

/** rollout: where connecting every user's mailbox through the service account is (service-mode.ts), or null */
const integrationView = (x: ExchangeIntegration | null, rollout?: RolloutStatus | null) => x === null
  ? { configured: false }
  : { configured: true, enabled: x.enabled, ewsUrl: x.ewsUrl, version: x.version, auth: x.auth, mode: x.mode, serviceUsername: x.serviceAccount?.username ?? null, servicePasswordSet: x.serviceAccount !== null, ...(rollout === undefined ? {} : { rollout }) }

const iso = (d: Date | null) => d?.toISOString() ?? null

export default async function exchangeApi (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  const { k } = opts
  const api = app.withTypeProvider<TypeBoxTypeProvider>()

  api.get('/integrations/exchange', { schema: { tags: ['admin'] } }, async request => {
    requireAdmin(request.user!)
    const orgId = request.user!.org_id
    return integrationView(await loadExchangeIntegration(k.db, k.secrets, orgId), await rolloutStatus(k.db, orgId))
  })
  api.put('/integrations/exchange', { schema: { tags: ['admin'], body: Integration } }, async request => {
    requireAdmin(request.user!)
    const orgId = request.user!.org_id
    const saved = await saveExchangeIntegration(k.db, k.secrets, orgId, request.body)
    // every user's mailbox in service-account mode, or stopped out of it: a long job; GET shows its progress
    void k.sync.rollouts.start(orgId)
    return integrationView(saved)
  })
  api.post('/integrations/exchange/test', { schema: { tags: ['admin'], body: Test, response: { 200: TestAnswer } } }, async request => {
    const admin = request.user!
    requireAdmin(admin)
    const { mailbox, username, password, token, ...draft } = request.body
    const current = await loadExchangeIntegration(k.db, k.secrets, admin.org_id)
    return testExchange(k.sync.exchange, mergeExchangeIntegration(current, draft), { mailbox, username, password, token }, admin.email)
  })
  api.post('/integrations/exchange/autodiscover', { schema: { tags: ['admin'], body: Autodiscover } }, async request => {
    const admin = request.user!
    requireAdmin(admin)
    const current = await loadExchangeIntegration(k.db, k.secrets, admin.org_id)
    const { email, ...login } = request.body
    return discoverForAdmin(k.sync.exchange, { auth: current?.auth ?? 'basic', serviceAccount: current?.serviceAccount ?? null }, email, login)
  })

  api.post('/connections/exchange', { schema: { tags: ['sync'], body: Connect } }, async (request, reply) => {
    const { connection, reconnected } = await connectExchange(k.sync.exchange, request.user!, request.body)
    const v = viewOf(connection)
    return reply.code(reconnected ? 200 : 201).send({ ...v, reconnected, stateAt: iso(v.stateAt), lastSuccessAt: iso(v.lastSuccessAt), createdAt: iso(v.createdAt) })
  })
}
