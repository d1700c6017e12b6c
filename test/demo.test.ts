// The demo end to end: `node demo/run.js` (the edge in Miniflare, the page from the same origin)
// on a free port, driven in Debian's Chromium through playwright-core with a fresh on-disk
// profile. Nothing is mocked: the orders go through IndexedDB, the bridge, the Worker, the
// Durable Objects and the Queue.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const profile = mkdtempSync(join(tmpdir(), 'tidings-demo-profile-'))
let demo: ChildProcess
let url: string
let context: BrowserContext
let page: Page

interface Ev {
  id: string
  type: string
  time: string
  causationid?: string
  data: Record<string, unknown>
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number }
        s.close(() => resolve(port))
      })
  })

/** Starts `node demo/run.js` and resolves the URL it prints. */
const startDemo = (port: number) =>
  new Promise<string>((resolve, reject) => {
    demo = spawn(process.execPath, [join(root, 'demo/run.js')], {
      cwd: root,
      env: { ...process.env, PORT: String(port), DEMO_STATE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    const timer = setTimeout(
      () => reject(new Error(`the demo did not start in 45 s:\n${out}`)),
      45_000,
    )
    const read = (chunk: Buffer) => {
      out += chunk
      const m = /tidings demo: (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    demo.stdout!.on('data', read)
    demo.stderr!.on('data', read)
    demo.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the demo exited (${code}):\n${out}`))
    })
  })

/** The edge's whole log through the HTTP app (GET /events, paged). */
const edgeLog = async (): Promise<Ev[]> => {
  const events: Ev[] = []
  for (let from = ''; ;) {
    const page = (await (
      await fetch(`${url}events?limit=1000${from && `&from=${from}`}`)
    ).json()) as { events: Ev[]; next: string }
    events.push(...page.events)
    if (page.events.length < 1000) return events
    from = page.next
  }
}

/** Polls `check` until it returns something truthy (the edge runs on the real clock). */
const until = async <T>(check: () => Promise<T> | T, what: string, ms = 15_000): Promise<T> => {
  for (const end = Date.now() + ms; ;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const orderIds = (p: Page) =>
  p.locator('#orders li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.order))

/** Opens a tab on the demo and waits until its sockets are live and its shop is ready. */
const open = async () => {
  const p = await context.newPage()
  p.setDefaultTimeout(15_000)
  await p.goto(url)
  await p.locator('#stream-status', { hasText: 'live' }).waitFor()
  await p.locator('#synced').waitFor()
  return p
}

beforeAll(async () => {
  url = await startDemo(await freePort())
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  page = await open()
}, 60_000)

afterAll(async () => {
  await context?.close()
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r))
    demo.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
    if (demo.exitCode === null) demo.kill('SIGKILL')
  }
  rmSync(profile, { recursive: true, force: true })
}, 30_000)

describe('npm run demo', () => {
  it(
    'offline, 5 orders, online: the edge holds exactly 5 order.placed and inventory handled each once',
    { timeout: 40_000 },
    async () => {
      await page.locator('#offline').check()
      for (let i = 0; i < 5; i++) await page.click('button[data-buy="mug"]')
      await page.locator('#pending', { hasText: /^5$/ }).waitFor()
      await new Promise((r) => setTimeout(r, 500))
      expect((await edgeLog()).filter((e) => e.type === 'order.placed')).toEqual([])

      await page.locator('#offline').uncheck()
      await page.locator('#pending', { hasText: /^0$/ }).waitFor()
      await until(
        async () => (await edgeLog()).filter((e) => e.type === 'inventory.reserved').length >= 5,
        '5 inventory.reserved at the edge',
      )
      // Any extra delivery would have had time to land by now.
      await new Promise((r) => setTimeout(r, 1000))
      const final = await edgeLog()
      const placed = final.filter((e) => e.type === 'order.placed')
      const reserved = final.filter((e) => e.type === 'inventory.reserved')
      expect(placed).toHaveLength(5)
      expect(reserved).toHaveLength(5)
      expect(new Set(reserved.map((e) => e.causationid))).toEqual(new Set(placed.map((e) => e.id)))
      expect(new Set(placed.map((e) => e.data.id))).toEqual(new Set(await orderIds(page)))
    },
  )

  it("a reload keeps the shop's history", { timeout: 30_000 }, async () => {
    const before = await orderIds(page)
    expect(before).toHaveLength(5)
    await page.reload()
    await until(async () => (await orderIds(page)).length === 5, 'the orders after the reload')
    expect(await orderIds(page)).toEqual(before)
    await page.locator('#stream-status', { hasText: 'live' }).waitFor()
    // What the edge did about them came back through the bridge into this browser's log: after
    // the reload, with no live socket event for them, every order still shows 'reserved'.
    for (const id of before)
      await page
        .locator(`#orders li[data-order="${id}"] .marks`, { hasText: 'reserved' })
        .waitFor({ timeout: 10_000 })
  })

  it(
    'a webhook with a bad signature is refused; a good one appears in the stream',
    { timeout: 30_000 },
    async () => {
      await page.click('#webhook-bad')
      await page
        .locator('#webhook-result[data-status="401"]', { hasText: 'BAD_SIGNATURE' })
        .waitFor()
      expect((await edgeLog()).filter((e) => e.type === 'payment.processed')).toEqual([])
      await page.click('#webhook')
      await page.locator('#webhook-result[data-status="200"]').waitFor()
      await page.locator('#stream li[data-type="payment.processed"]').waitFor()
      expect((await edgeLog()).filter((e) => e.type === 'payment.processed')).toHaveLength(1)
    },
  )

  it('run now fires the schedule into the stream', { timeout: 30_000 }, async () => {
    await page.click('button[data-run="hourly-report"]')
    const li = page.locator(
      '#stream li[data-type="report.hourly"][data-id^="schedule:hourly-report:run:"]',
    )
    await li.waitFor()
    const id = await li.getAttribute('data-id')
    expect((await edgeLog()).map((e) => e.id)).toContain(id)
  })

  it(
    'a dead letter is redriven from the dashboard and delivered',
    { timeout: 40_000 },
    async () => {
      await page.fill('#email', 'flaky@example.com')
      const ordersBefore = (await orderIds(page)).length
      await page.click('button[data-buy="cap"]')
      await until(async () => (await orderIds(page)).length === ordersBefore + 1, 'the new order')
      const letter = page.locator('#letters li[data-letter]')
      await letter.waitFor()
      const eventId = (await letter.getAttribute('data-event'))!
      // The demo's mail server greylists the address for 3 s after the order: wait that out.
      const placed = (await edgeLog()).find((e) => e.id === eventId)!
      await new Promise((r) =>
        setTimeout(r, Math.max(0, Date.parse(placed.time) + 3_200 - Date.now())),
      )
      await page.click(`#letters button[data-redrive]`)
      await page.locator(`#stream li[data-type="email.sent"][data-cause="${eventId}"]`).waitFor()
      await page.locator('#letters li.none').waitFor()
      expect(
        (await edgeLog()).filter((e) => e.type === 'email.sent' && e.causationid === eventId),
      ).toHaveLength(1)
    },
  )

  it(
    'a second tab shows the same live events and the same orders',
    { timeout: 30_000 },
    async () => {
      const second = await open()
      await page.fill('#email', 'grace@example.com')
      const before = await orderIds(page)
      await page.click('button[data-buy="tee"]')
      const id = await until(
        async () => (await orderIds(page)).find((o) => !before.includes(o)),
        'the new order in the first tab',
      )
      // The order reaches the second tab through IndexedDB (BroadcastChannel), its edge events through its own sockets.
      await second.locator(`#orders li[data-order="${id}"]`).waitFor()
      for (const p of [page, second])
        await p.locator(`#stream li[data-type="inventory.reserved"]`, { hasText: id! }).waitFor()
      await second.close()
    },
  )

  it('screenshots the dashboard', { timeout: 30_000 }, async () => {
    // A fresh chain and a dead letter, so the picture shows each part of the dashboard at work.
    const before = await orderIds(page)
    await page.fill('#email', 'flaky@example.com')
    await page.click('button[data-buy="cap"]')
    await page.fill('#email', 'ada@example.com')
    await page.click('button[data-buy="tee"]')
    await until(
      async () => (await orderIds(page)).filter((o) => !before.includes(o)).length === 2,
      'the two new orders',
    )
    const [newest] = await orderIds(page)
    await page
      .locator(`#orders li[data-order="${newest}"] .marks`, { hasText: 'reserved' })
      .waitFor()
    await page.locator('#letters li[data-letter]').waitFor()
    const png = await page.screenshot()
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    // Only on request, so that a test run leaves the working tree clean.
    if (process.env.DEMO_SCREENSHOT) writeFileSync(join(root, 'docs/dashboard.png'), png)
  })

  it(
    'a reload starts the live panel with the latest events from the log',
    { timeout: 30_000 },
    async () => {
      // The newest order the edge holds: after the reload no socket brings it again (they start at
      // the end of the log), so seeing it means the panel read the log.
      const placed = (await edgeLog())
        .filter((e) => e.type === 'order.placed')
        .sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
      const newest = placed.at(-1)!
      await page.reload()
      await page
        .locator(`#stream li[data-type="order.placed"][data-id="${newest.id}"]`)
        .waitFor({ timeout: 10_000 })
      // Its chain is nested under it as it is live: the reservation it caused is indented below.
      await page
        .locator(
          `#stream li[data-type="inventory.reserved"][data-cause="${newest.id}"][data-depth="1"]`,
        )
        .waitFor({ timeout: 10_000 })
      await page.locator('#stream-status', { hasText: 'live' }).waitFor()
    },
  )

  it(
    "at 800 px wide nothing overflows and the header spans the content (boxes measured on the screenshot's layout)",
    { timeout: 30_000 },
    async () => {
      const narrow = await open()
      await narrow.setViewportSize({ width: 800, height: 900 })
      const png = await narrow.screenshot({ fullPage: true })
      expect(png.subarray(1, 4).toString()).toBe('PNG')
      const m = await narrow.evaluate(() => {
        const box = (el: Element) => {
          const r = el.getBoundingClientRect()
          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }
        }
        const sections = Array.from(document.querySelectorAll('main > section'))
        return {
          viewport: window.innerWidth,
          page: document.documentElement.scrollWidth,
          header: box(document.querySelector('header')!),
          main: box(document.querySelector('main')!),
          sections: sections.map((s) => ({
            id: s.id,
            ...box(s),
            inner: s.scrollWidth - s.clientWidth,
          })),
          label: document.querySelector('#chart')!.getAttribute('aria-label'),
        }
      })
      expect(m.viewport).toBe(800)
      expect(m.page, 'the page scrolls sideways').toBeLessThanOrEqual(800)
      for (const s of m.sections) {
        expect(s.right, `#${s.id} ends past the viewport`).toBeLessThanOrEqual(800)
        expect(s.left, `#${s.id}`).toBeGreaterThanOrEqual(0)
        expect(s.inner, `#${s.id} overflows inside`).toBeLessThanOrEqual(1)
        expect(m.header.right, `the header stops short of #${s.id}`).toBeGreaterThanOrEqual(s.right)
      }
      expect(m.header.right).toBe(800)
      // No two sections overlap.
      for (const a of m.sections)
        for (const b of m.sections) {
          if (a.id < b.id)
            expect(
              a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top,
              `#${a.id} and #${b.id} overlap`,
            ).toBe(true)
        }
      // The chart's label is a rate, never the bars' scale alone.
      expect(m.label).toMatch(/^\d+(\.\d)? events\/s( · peak \d+\/s in the last 60 s)?$/)
      await narrow.close()
    },
  )

  it(
    'the online pill follows the real network, not only the switch',
    { timeout: 30_000 },
    async () => {
      const p = await open()
      const net = p.locator('#net')
      await net.filter({ hasText: /^online$/ }).waitFor()
      await context.setOffline(true)
      try {
        await p.locator('#net.offline', { hasText: /^offline$/ }).waitFor()
      } finally {
        await context.setOffline(false)
      }
      await p.locator('#net.online', { hasText: /^online$/ }).waitFor()
      await p.locator('#offline').check()
      await p.locator('#net.offline', { hasText: 'offline (simulated)' }).waitFor()
      await p.locator('#offline').uncheck()
      await p.locator('#net.online', { hasText: /^online$/ }).waitFor()
      await p.close()
    },
  )
})
