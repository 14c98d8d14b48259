import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Kalends } from '../app.ts'
import type { User } from '../db/schema.ts'
import { getOrg, updateOrg } from '../domain/orgs.ts'
import { loadGoogleIntegration } from '../sync/google/integration.ts'
import { adminTabs, requireAdminSession } from './admin.ts'
import { html } from './html.ts'
import { postButton } from './layout.ts'
import { t, type MessageId } from './messages.ts'
import type { Web } from './plugin.ts'

/**
 * The administrator's first steps: a public address phones can use, the
 * colleagues, an outside calendar system, a first device. Each step is
 * done when the server sees it done, so the list ticks itself off; an
 * administrator's sign-in lands here until every step is done or the list
 * is hidden.
 */
type Step = { id: string; title: MessageId; text: string; done: boolean; href?: string }

/** Why a public address will not do for phones: null when it will. */
export function publicUrlProblem (publicUrl: string): 'loopback' | 'http' | null {
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0' || host === '::') return 'loopback'
  return publicUrl.startsWith('http:') ? 'http' : null
}

export async function setupSteps (k: Kalends, admin: User): Promise<Step[]> {
  const url = k.config.publicUrl
  const problem = publicUrlProblem(url)
  const [users, devices, google] = await Promise.all([
    k.db.selectFrom('users').select(eb => eb.fn.countAll<string>().as('n')).where('org_id', '=', admin.org_id).executeTakeFirstOrThrow(),
    k.db.selectFrom('app_passwords').innerJoin('users', 'users.id', 'app_passwords.user_id').select('app_passwords.id').where('users.org_id', '=', admin.org_id).limit(1).executeTakeFirst(),
    loadGoogleIntegration(k.db, k.secrets, admin.org_id, k.config.google)
  ])
  const count = Number(users.n)
  return [
    { id: 'public-url', title: 'setup.publicUrl', done: problem === null, text: t(problem === 'loopback' ? 'setup.publicUrlLoopback' : problem === 'http' ? 'setup.publicUrlHttp' : 'setup.publicUrlOk', { url }) },
    { id: 'users', title: 'setup.users', done: count > 1, text: t('setup.usersText', { count }), href: '/admin/users' },
    { id: 'integrations', title: 'setup.integrations', done: google !== null && google.enabled && (google.clientId ?? '') !== '', text: t('setup.integrationsText'), href: '/admin/integrations' },
    { id: 'device', title: 'setup.device', done: devices !== undefined, text: t('setup.deviceText'), href: '/devices' }
  ]
}

/** Where an administrator's sign-in goes: the first steps while they are open and not hidden. */
export async function setupPending (k: Kalends, user: User): Promise<boolean> {
  if (user.role !== 'admin') return false
  if ((await getOrg(k.db, user)).setupDismissed) return false
  return (await setupSteps(k, user)).some(s => !s.done)
}

export function setupRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  async function show (request: FastifyRequest, reply: FastifyReply, notice: string | null = null) {
    const s = requireAdminSession(web, request)
    const [steps, org] = await Promise.all([setupSteps(k, s.user), getOrg(k.db, s.user)])
    return web.render(request, reply, {
      title: t('setup.title'), current: '/admin/setup', notice,
      body: html`${adminTabs('/admin/setup')}<p>${t('setup.intro')}</p>
      <ol class="checklist">${steps.map(step => html`<li class="card ${step.done ? 'done' : 'todo'}" id="step-${step.id}">
        <h2><span class="tick" aria-hidden="true">${step.done ? '✓' : '○'}</span> ${t(step.title)} <span class="state">(${step.done ? t('setup.done') : t('setup.todo')})</span></h2>
        <p${step.done ? '' : html` class="${step.id === 'public-url' ? 'warning' : ''}"`}>${step.text}</p>
        ${step.href === undefined || step.done ? '' : html`<p><a class="button secondary" href="${step.href}">${t('setup.go')}: ${t(step.title)}</a></p>`}</li>`)}</ol>
      ${org.setupDismissed ? '' : postButton('/admin/setup/dismiss', s.csrf, t('setup.dismiss'))}`
    })
  }

  app.get('/admin/setup', async (request, reply) => show(request, reply))
  app.post('/admin/setup/dismiss', async (request, reply) => {
    requireAdminSession(web, request)
    await updateOrg(k.db, web.actor(request), { setupDismissed: true })
    return show(request, reply, t('setup.dismissed'))
  })
}
