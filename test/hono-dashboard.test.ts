// busApp({ dashboard: true }) in headless Chromium (playwright-core, Debian's /usr/bin/chromium),
// served by @hono/node-server on localhost over the memory bus. Screenshots go to
// test/artifacts/ (gitignored); DASHBOARD_SCREENSHOT=1 also writes docs/dashboard.png.
import { serve, type ServerType } from '@hono/node-server'
import { mkdirSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { busApp } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'

const root = join(import.meta.dirname, '..')
const artifacts = join(import.meta.dirname, 'artifacts')
const ADMIN = 'admin-token-for-the-dashboard'
const READER = 'reader-token-orders-only'

const bus = createBus({ onError: () => {} })
// The mailer fails while `failing` is set: its events are dead-lettered after one try.
let failing = true
const mailed: string[] = []
let server: ServerType
let url: string
let browser: Browser

beforeAll(async () => {
  await bus.subscribe(
    'mailer',
    'order.placed',
    async (e) => {
      if (failing) throw new Error('mail server said <b>no</b>')
      mailed.push(e.id)
    },
    { retry: { attempts: 1 } },
  )
  await bus.subscribe('audit', '**', async () => {})
  await bus.schedule('nightly', {
    cron: '0 3 * * *',
    type: 'report.nightly',
    data: { note: 'nightly' },
  })
  const app = busApp({
    bus,
    tokens: { [ADMIN]: ['admin'], [READER]: ['subscribe:order.**'] },
    dashboard: true,
  })
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((r) => server.once('listening', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  mkdirSync(artifacts, { recursive: true })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  server?.close()
  await bus.close()
})

/** A fresh tab (fresh sessionStorage) on the dashboard, signed in with `token` when given. */
const open = async (token?: string, live = true): Promise<Page> => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  page.setDefaultTimeout(10_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) errors.push(m.text())
  })
  ;(page as Page & { errors: string[] }).errors = errors
  await page.goto(`${url}/dashboard`)
  if (token !== undefined) {
    await page.locator('#auth-message', { hasText: 'needs a token' }).waitFor()
    await page.fill('#token', token)
    await page.click('#auth button[type=submit]')
    if (live) await page.locator('#stream-status', { hasText: 'live' }).waitFor()
  }
  return page
}
const pageErrors = (page: Page) => (page as Page & { errors: string[] }).errors

describe('the dashboard page', { timeout: 30_000 }, () => {
  it('is served without a token, holds no data, with a Content-Security-Policy; its data routes still need one', async () => {
    const reply = await fetch(`${url}/dashboard`)
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toMatch(/^text\/html/)
    const csp = reply.headers.get('content-security-policy')!
    expect(csp).toMatch(/default-src 'none'/)
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/)
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/)
    const html = await reply.text()
    expect(html).not.toContain('mailer')
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/)
    expect((await fetch(`${url}/stats`)).status).toBe(401)
  })

  it('is not served unless asked for', async () => {
    const app = busApp({ bus, auth: false })
    expect((await app.request('/dashboard')).status).toBe(404)
  })

  it('asks for a token, and tells a wrong one so', async () => {
    const page = await open()
    await page.locator('#auth-message', { hasText: 'needs a token' }).waitFor()
    await page.fill('#token', 'not-a-token')
    await page.click('#auth button[type=submit]')
    await page.locator('#auth-message', { hasText: 'refused this token' }).waitFor()
    expect(await page.locator('#auth').isVisible()).toBe(true)
    expect(await page.locator('#subs tr').count()).toBe(0)
    await page.screenshot({ path: join(artifacts, 'dashboard-wrong-token.png') })
    expect(pageErrors(page)).toEqual([])
    await page.close()
  })

  it("shows live events with their causation chains, and an event's markup as text", async () => {
    const page = await open(ADMIN)
    const cause = await bus.publish('order.placed', { order: 'o-1', total: 42 })
    await bus.publish(
      'inventory.reserved',
      { order: 'o-1' },
      { causationId: cause.id, correlationId: cause.id },
    )
    await bus.publish('order.placed', { note: '<img src=x onerror=window.__xss=1>' })
    await page.locator(`#events li[data-id="${cause.id}"][data-depth="0"]`).waitFor()
    const child = page.locator(
      `#events li[data-type="inventory.reserved"][data-cause="${cause.id}"][data-depth="1"]`,
    )
    await child.waitFor()
    expect(await child.getAttribute('data-correlation')).toBe(cause.id)
    // The payload shows as the characters it is: no element was made of it, nothing ran.
    await page
      .locator('#events li .data', { hasText: '<img src=x onerror=window.__xss=1>' })
      .waitFor()
    expect(await page.locator('#events img').count()).toBe(0)
    expect(
      await page.evaluate(() => (window as unknown as { __xss?: number }).__xss),
    ).toBeUndefined()
    // The dead letter's error, with its markup, is text too.
    await page
      .locator('#letters li[data-letter] .err', { hasText: 'mail server said <b>no</b>' })
      .first()
      .waitFor()
    expect(await page.locator('#letters b', { hasText: /^no$/ }).count()).toBe(0)
    // A topic filter asks the server for that pattern only.
    await page.fill('#topic', 'inventory.*')
    await page.click('#filter button')
    await bus.publish('order.placed', { order: 'o-2' })
    const reserved = await bus.publish('inventory.reserved', { order: 'o-2' })
    await page.locator(`#events li[data-id="${reserved.id}"]`).waitFor()
    expect(await page.locator('#events li[data-type="order.placed"]').count()).toBe(0)
    expect(pageErrors(page)).toEqual([])
    await page.close()
  })

  it("shows the subscriptions' counts, with — for metrics the bus does not report", async () => {
    const page = await open(ADMIN)
    const row = page.locator('#subs tr[data-sub="mailer"]')
    await row.waitFor()
    const cells = await row.locator('td').allTextContents()
    expect(cells[0]).toBe('mailer')
    expect(Number(cells[4])).toBeGreaterThan(0) // dead letters
    const stats = (await bus.stats()).find((s) => s.name === 'mailer')!
    expect(cells[5]).toBe(String(stats.handled))
    await page.close()
  })

  it('shows handler metrics and a throughput line where the bus reports them', async () => {
    // The metrics stats() gains with the handler-metrics work, given here by a wrapper over this bus.
    let handled = 10
    const measured = {
      ...bus,
      stats: async () =>
        (await bus.stats()).map((s) => ({
          ...s,
          handled: (handled += 4),
          failed: 2,
          duration: { p50: 1.25, p95: 12.4, p99: 30, max: 44.6 },
          lastHandledAt: Date.now() - 5000,
        })),
    }
    const other = serve({
      fetch: busApp({ bus: measured, auth: false, dashboard: true }).fetch,
      port: 0,
      hostname: '127.0.0.1',
    })
    await new Promise((r) => other.once('listening', r))
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/dashboard`)
      const row = page.locator('#subs tr[data-sub="audit"]')
      await row.locator('td svg[aria-label^="handled"]').waitFor()
      const cells = await row.locator('td').allTextContents()
      expect(cells.slice(6, 12)).toEqual(['2', '1.3 ms', '12 ms', '30 ms', '45 ms', '5 s ago'])
      expect(Number(cells[5])).toBeGreaterThan(10)
      expect(cells[12]).toMatch(/^ \d+(\.\d)?\/s$/)
      expect(await page.locator('#auth').isVisible()).toBe(false)
      await page.close()
    } finally {
      other.close()
    }
  })

  it('redrives a dead letter with a click: it is gone and the handler ran', async () => {
    const page = await open(ADMIN)
    const letters = await bus.deadLetters.list({ subscription: 'mailer' })
    const letter = letters[0]!
    await page.locator(`#letters li[data-letter="${letter.id}"]`).waitFor()
    failing = false
    await page.click(`#letters button[data-redrive="${letter.id}"]`)
    await page.locator(`#letters li[data-letter="${letter.id}"]`).waitFor({ state: 'detached' })
    await bus.idle()
    expect(mailed).toContain(letter.event.id)
    expect((await bus.deadLetters.list()).map((d) => d.id)).not.toContain(letter.id)
    await page.locator('#notice', { hasText: 'redriven' }).waitFor()
    await page.close()
  })

  it('discards a dead letter with a click', async () => {
    failing = true
    await bus.publish('order.placed', { order: 'o-3' })
    await bus.idle()
    const [letter] = await bus.deadLetters.list({ subscription: 'mailer' })
    const page = await open(ADMIN)
    await page.click(`#letters button[data-discard="${letter!.id}"]`)
    await page.locator(`#letters li[data-letter="${letter!.id}"]`).waitFor({ state: 'detached' })
    expect((await bus.deadLetters.list()).map((d) => d.id)).not.toContain(letter!.id)
    failing = false
    await page.close()
  })

  it('shows the schedules with their next fire time, and run-now fires one', async () => {
    const page = await open(ADMIN)
    const item = page.locator('#schedule-list li[data-schedule="nightly"]')
    await item.waitFor()
    const [info] = await bus.schedules()
    expect(await item.locator('.next').textContent()).toContain(
      new Date(info!.nextAt!).toLocaleTimeString('en-US'),
    )
    await page.click('#schedule-list button[data-run="nightly"]')
    const fired = page.locator('#events li[data-type="report.nightly"]')
    await fired.waitFor()
    const id = await fired.getAttribute('data-id')
    const log = await bus.read({ pattern: 'report.nightly' })
    expect(log.events.map((e) => e.id)).toContain(id)
    await page.screenshot({ path: join(artifacts, 'dashboard.png') })
    await page.close()
  })

  it('starts from now when the tab kept a cursor the bus does not know (a restarted bus)', async () => {
    const page = await browser.newPage()
    await page.addInitScript(
      ([token]) => {
        sessionStorage.setItem('tidings.dashboard.token', token!)
        sessionStorage.setItem(
          'tidings.dashboard.view',
          JSON.stringify({ topic: '**', lastId: 'not-a-cursor-of-this-bus', events: [] }),
        )
      },
      [ADMIN],
    )
    await page.goto(`${url}/dashboard`)
    await page.locator('#stream-status', { hasText: 'live' }).waitFor()
    const placed = await bus.publish('order.placed', { order: 'o-5' })
    await page.locator(`#events li[data-id="${placed.id}"]`).waitFor()
    await page.close()
  })

  it('shows a narrower token what it may see: its topics, and no admin panels', async () => {
    const page = await open(READER, false)
    await page.locator('#subscriptions .note', { hasText: 'may not see this' }).waitFor()
    await page.locator('#access', { hasText: 'no admin routes' }).waitFor()
    // Its scope does not cover "**": the flow says so, and a topic it covers streams.
    await page.locator('#flow-note', { hasText: 'no subscribe scope covers' }).waitFor()
    await page.fill('#topic', 'order.**')
    await page.click('#filter button')
    await page.locator('#stream-status', { hasText: 'live' }).waitFor()
    const placed = await bus.publish('order.placed', { order: 'o-4' })
    await page.locator(`#events li[data-id="${placed.id}"]`).waitFor()
    await page.screenshot({ path: join(artifacts, 'dashboard-reader.png') })
    await page.close()
  })

  it('screenshots a busy dashboard', async () => {
    failing = true
    const page = await open(ADMIN)
    for (let i = 0; i < 3; i++) {
      const order = await bus.publish('order.placed', { order: `o-${10 + i}`, total: 20 + i })
      await bus.publish(
        'inventory.reserved',
        { order: `o-${10 + i}` },
        { causationId: order.id, correlationId: order.id },
      )
    }
    await bus.idle()
    await page.locator('#letters li[data-letter]').first().waitFor()
    await page.locator('#events li[data-depth="1"]').first().waitFor()
    const png = await page.screenshot({ path: join(artifacts, 'dashboard-busy.png') })
    if (process.env.DASHBOARD_SCREENSHOT) writeFileSync(join(root, 'docs/dashboard.png'), png)
    failing = false
    await page.close()
  })
})
