import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Kalends } from '../../app.ts'
import { requireAdmin } from '../../domain/access.ts'
import { connectionLog, connectionOf, disconnect, listConnections, requestSync, saveOptions, syncSince, viewOf, type ConnectionView } from '../../sync/connections.ts'
import { consentUrl } from '../../sync/google/consent.ts'
import { loadGoogleIntegration, saveGoogleIntegration, type GoogleIntegration } from '../../sync/google/integration.ts'
import { connectGraphOrganisation, graphConsentUrl } from '../../sync/graph/consent.ts'
import { loadGraphIntegration, saveGraphIntegration, type GraphIntegration } from '../../sync/graph/integration.ts'
import { Id, IdParams } from './schemas.ts'

/**
 * /api/v1/connections: the signed-in user's external calendar connections,
 * their state (green/red with the reason), options, log, "sync now", "sync
 * since date" and disconnect. Connecting needs a browser for Google's consent:
 * POST /connections/google answers the address to open.
 * /api/v1/integrations/google: the admin's organisation-wide settings.
 * Microsoft 365 likewise: POST /connections/microsoft answers the sign-in
 * address, POST /connections/microsoft/organisation connects through the
 * organisation-wide app, /api/v1/integrations/microsoft holds the Azure app.
 */
const Options = Type.Object({
  appointments: Type.Optional(Type.Boolean()),
  tasks: Type.Optional(Type.Boolean()),
  calendarId: Type.Optional(Type.String({ maxLength: 1024 })),
  taskListId: Type.Optional(Type.String({ maxLength: 1024 })),
  appointmentTypeId: Type.Optional(Type.Union([Id, Type.Null()])),
  taskTypeId: Type.Optional(Type.Union([Id, Type.Null()])),
  startDate: Type.Optional(Type.Union([Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD' }), Type.Null()])),
  daysBefore: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 3650 }), Type.Null()])),
  daysAfter: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 3650 }), Type.Null()])),
  descriptionFields: Type.Optional(Type.Array(Type.Union(['case', 'type', 'status', 'participants', 'link'].map(f => Type.Literal(f))), { maxItems: 5 })),
  pollMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
  contacts: Type.Optional(Type.Union(['off', 'company', 'cases'].map(f => Type.Literal(f)), { description: 'CRM contacts pushed one way into the account\'s "Kalends" contact group: none, all of the company\'s, or those of the user\'s cases' }))
}, { additionalProperties: false })
const Since = Type.Object({ date: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD' }) }, { additionalProperties: false })
const Integration = Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  clientId: Type.Optional(Type.String({ maxLength: 300 })),
  clientSecret: Type.Optional(Type.String({ maxLength: 300, description: 'write-only; empty keeps the stored one' })),
  applicationName: Type.Optional(Type.String({ maxLength: 100 })),
  pushAddress: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  delegationDomain: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  delegateContacts: Type.Optional(Type.Boolean({ description: 'the Workspace admin granted the service account the contacts scope too: delegated connections may push contacts' })),
  serviceAccountJson: Type.Optional(Type.Union([Type.String({ maxLength: 20_000, description: 'write-only: the key file of a Workspace service account' }), Type.Null()]))
}, { additionalProperties: false })

const MicrosoftIntegration = Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  tenant: Type.Optional(Type.String({ maxLength: 255, description: 'directory (tenant) id or domain' })),
  clientId: Type.Optional(Type.String({ maxLength: 100, description: 'application (client) id' })),
  clientSecret: Type.Optional(Type.String({ maxLength: 500, description: 'write-only; empty keeps the stored one' })),
  certificatePem: Type.Optional(Type.Union([Type.String({ maxLength: 20_000, description: 'write-only: certificate and private key in PEM, instead of a secret' }), Type.Null()])),
  pushAddress: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  orgWide: Type.Optional(Type.Boolean({ description: 'the app holds Calendars.ReadWrite as an application permission: users connect without signing in (calendars only)' }))
}, { additionalProperties: false })

const iso = (d: Date | null) => d?.toISOString() ?? null
const view = (c: ConnectionView) => ({ ...c, stateAt: iso(c.stateAt), lastSuccessAt: iso(c.lastSuccessAt), createdAt: iso(c.createdAt) })
const integrationView = (g: GoogleIntegration | null) => g === null
  ? { configured: false }
  : { configured: true, enabled: g.enabled, clientId: g.clientId, clientSecretSet: g.clientSecret !== '', applicationName: g.applicationName, pushAddress: g.pushAddress, delegationDomain: g.delegationDomain, delegateContacts: g.delegateContacts, serviceAccount: g.serviceAccount?.clientEmail ?? null }

const graphView = (g: GraphIntegration | null) => g === null
  ? { configured: false }
  : { configured: true, enabled: g.enabled, tenant: g.tenant, clientId: g.clientId, clientSecretSet: g.clientSecret !== '', certificate: g.certificate === null ? null : { thumbprintSha256: g.certificate.thumbprintSha256, subject: g.certificate.subject }, pushAddress: g.pushAddress, orgWide: g.orgWide }

export default async function connectionsApi (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  const { k } = opts
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const db = k.db

  api.get('/connections', { schema: { tags: ['sync'] } }, async request => (await listConnections(db, request.user!)).map(view))
  api.post('/connections/google', { schema: { tags: ['sync'] } }, async request => ({ consentUrl: await consentUrl(k.sync.google, request.user!) }))
  api.post('/connections/microsoft', { schema: { tags: ['sync'] } }, async request => ({ consentUrl: await graphConsentUrl(k.sync.graph, request.user!) }))
  api.post('/connections/microsoft/organisation', { schema: { tags: ['sync'] } }, async (request, reply) => {
    const { connection, reconnected } = await connectGraphOrganisation(k.sync.graph, request.user!)
    return reply.code(reconnected ? 200 : 201).send(view(viewOf(connection)))
  })
  api.get('/connections/:id', { schema: { tags: ['sync'], params: IdParams } }, async request => view(viewOf(await connectionOf(db, request.user!, request.params.id))))
  api.patch('/connections/:id', { schema: { tags: ['sync'], params: IdParams, body: Options } }, async request => {
    return view(await saveOptions(db, k.sync.jobs, request.user!, request.params.id, request.body))
  })
  api.post('/connections/:id/sync', { schema: { tags: ['sync'], params: IdParams } }, async (request, reply) => {
    await requestSync(db, k.sync.jobs, request.user!, request.params.id)
    return reply.code(202).send({ queued: true })
  })
  api.post('/connections/:id/sync-since', { schema: { tags: ['sync'], params: IdParams, body: Since } }, async (request, reply) => {
    await syncSince(db, request.user!, request.params.id, request.body.date)
    await k.sync.jobs.request(request.params.id)
    return reply.code(202).send({ queued: true })
  })
  api.get('/connections/:id/log', { schema: { tags: ['sync'], params: IdParams, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false }) } }, async request =>
    (await connectionLog(db, request.user!, request.params.id, request.query.limit ?? 100)).map(l => ({
      at: iso(l.at), direction: l.direction, action: l.action, itemKind: l.item_kind, itemId: l.item_id, remoteId: l.remote_id, message: l.message
    })))
  api.delete('/connections/:id', { schema: { tags: ['sync'], params: IdParams, querystring: Type.Object({ removeContacts: Type.Optional(Type.Boolean({ description: 'also delete the contacts the push copied into Google (default: they stay)' })) }, { additionalProperties: false }) } }, async (request, reply) => {
    await disconnect(k.sync.engine, request.user!, request.params.id, { removeContacts: request.query.removeContacts === true })
    return reply.code(204).send()
  })

  api.get('/integrations/google', { schema: { tags: ['admin'] } }, async request => {
    requireAdmin(request.user!)
    return integrationView(await loadGoogleIntegration(db, k.secrets, request.user!.org_id, k.config.google))
  })
  api.put('/integrations/google', { schema: { tags: ['admin'], body: Integration } }, async request => {
    requireAdmin(request.user!)
    return integrationView(await saveGoogleIntegration(db, k.secrets, request.user!.org_id, request.body))
  })

  api.get('/integrations/microsoft', { schema: { tags: ['admin'] } }, async request => {
    requireAdmin(request.user!)
    return graphView(await loadGraphIntegration(db, k.secrets, request.user!.org_id))
  })
  api.put('/integrations/microsoft', { schema: { tags: ['admin'], body: MicrosoftIntegration } }, async request => {
    requireAdmin(request.user!)
    return graphView(await saveGraphIntegration(db, k.secrets, request.user!.org_id, request.body))
  })
}
