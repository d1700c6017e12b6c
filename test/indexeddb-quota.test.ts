// The IndexedDB store over the origin's quota, in Debian's Chromium with an on-disk profile and a
// quota lowered through the DevTools protocol (vitest's browser contexts cannot lower it).
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { expect, it } from 'vitest'

it(
  'a commit past the quota rejects with STORAGE_FULL and writes nothing; the store goes on working',
  { timeout: 60_000 },
  async () => {
    const script = (
      await build({
        entryPoints: [join(import.meta.dirname, 'fixtures/quota-page.ts')],
        bundle: true,
        format: 'esm',
        write: false,
        logLevel: 'error',
      })
    ).outputFiles[0]!.text
    const server = createServer((req, res) => {
      if (req.url === '/page.js')
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
      else
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><script type="module" src="/page.js"></script>')
    })
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const profile = mkdtempSync(join(tmpdir(), 'tidings-quota-'))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
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
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      const cdp = await context.newCDPSession(page)
      await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1 << 20 })
      await page.goto(`${origin}/`)
      await page.waitForFunction(() => 'run' in window, null, { timeout: 20_000 })
      const r = await Promise.race([
        page.evaluate(() => (window as unknown as { run: () => Promise<unknown> }).run()),
        new Promise((_, no) =>
          setTimeout(() => no(new Error('the page did not answer in 30 s')), 30_000),
        ),
      ])
      expect(r).toEqual({
        small: true,
        big: 'STORAGE_FULL',
        publish: 'STORAGE_FULL',
        written: [false, false],
        events: 0,
        stillWorks: true,
      })
    } finally {
      await context.close().catch(() => {})
      server.close()
      rmSync(profile, { recursive: true, force: true })
    }
  },
)
