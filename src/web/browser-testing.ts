import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { startServer, type TestServer } from '../testing/harness.ts'

/**
 * Debian's chromium driven by playwright-core, for the browser tests: a
 * fresh profile, headless, and screenshots of a page desktop and phone sized
 * under artifacts/screenshots/.
 */
export const CHROMIUM = process.env.KALENDS_CHROMIUM ?? '/usr/bin/chromium'
export const chromiumMissing = () => existsSync(CHROMIUM)
  ? null
  : `no chromium at ${CHROMIUM}: install it with scripts/setup-debian.sh (apt-get install chromium), or set KALENDS_CHROMIUM`

const SHOTS = join(import.meta.dirname, '../../artifacts/screenshots')
const DESKTOP = { width: 1280, height: 900 }
const PHONE = { width: 390, height: 844 }

const AXE = readFileSync(join(import.meta.dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8')

export type Violation = { page: string; id: string; impact: string; help: string; targets: string[] }

/**
 * axe-core's check of the page as it is now, desktop and phone sized: the
 * serious and critical violations (WCAG 2.1 A and AA rules). axe is run
 * through the DevTools protocol, which the pages' CSP does not stop.
 */
export async function accessibilityProblems (page: Page, name: string): Promise<Violation[]> {
  await page.evaluate(`${AXE}\n;undefined`)
  const result = await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })`) as { violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({ page: name, id: v.id, impact: v.impact!, help: v.help, targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))
}

export type Browser = {
  context: BrowserContext
  page: Page
  /** saves the page as it is now, desktop and phone sized, and checks it with axe-core at both sizes */
  shoot (name: string): Promise<void>
  /** the serious and critical accessibility violations of every page shot so far */
  readonly violations: Violation[]
  close (): Promise<void>
}

/** `locale` sets the browser's language (Accept-Language too), `timezoneId` the zone its clock reports. */
export async function launchBrowser (opts: { locale?: string; timezoneId?: string } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'kalends-chromium-'))
  mkdirSync(SHOTS, { recursive: true })
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: DESKTOP,
    ...opts
  })
  const page = context.pages()[0] ?? await context.newPage()
  const violations: Violation[] = []
  return {
    context,
    page,
    violations,
    async shoot (name) {
      await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true })
      violations.push(...await accessibilityProblems(page, `${name} (desktop)`))
      await page.setViewportSize(PHONE)
      await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true })
      violations.push(...await accessibilityProblems(page, `${name} (phone)`))
      await page.setViewportSize(DESKTOP)
    },
    async close () {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

export type Suite = { s: TestServer; browser: Browser; page: Page }

/**
 * A started server (its public address the one the browser uses) and a
 * browser for the tests of one file, closed at its end; null, with the file
 * failed, when chromium is missing.
 */
export function browserSuite (opts: { users: string[]; browser?: { locale?: string; timezoneId?: string } }): Suite | null {
  const missing = chromiumMissing()
  if (missing !== null) {
    t.fail(missing)
    return null
  }
  const suite = {} as Partial<Suite>
  t.before(async () => {
    suite.s = await startServer({ users: opts.users })
    suite.s.k.config.publicUrl = suite.s.url
    suite.browser = await launchBrowser(opts.browser)
    suite.page = suite.browser.page
  })
  t.teardown(async () => {
    await suite.browser?.close()
    await suite.s?.close()
  })
  return suite as Suite
}
