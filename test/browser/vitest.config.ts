import { defineConfig } from 'vitest/config'
import type { BrowserCommand } from 'vitest/node'
import { playwright } from '@vitest/browser-playwright'
import {
  serverLog,
  serverPublish,
  setKnobs,
  startServer,
  stopServer,
  type Knobs,
} from './_server.js'

// Commands run in Node: the bridge tests drive a real busApp server through them.
const commands = {
  startServer: ((_, token: string) => startServer(token)) as BrowserCommand<[token: string]>,
  setKnobs: ((_, id: string, knobs: Knobs) => setKnobs(id, knobs)) as BrowserCommand<
    [id: string, knobs: Knobs]
  >,
  serverLog: ((_, id: string) => serverLog(id)) as BrowserCommand<[id: string]>,
  serverPublish: ((_, id: string, events: { type: string; data: unknown; id?: string }[]) =>
    serverPublish(id, events)) as BrowserCommand<
    [id: string, events: { type: string; data: unknown; id?: string }[]]
  >,
  stopServer: ((_, id: string) => stopServer(id)) as BrowserCommand<[id: string]>,
  // The network between the browser and one server goes down (requests fail as
  // net::ERR_INTERNET_DISCONNECTED) or comes back. Playwright's context.setOffline would be the
  // browser's own switch, but it also cuts vitest's channel to the page, so the tests use routes.
  network: (async ({ context }, url: string, up: boolean) => {
    if (up) await context.unroute(`${url}/**`)
    else await context.route(`${url}/**`, (route) => route.abort('internetdisconnected'))
  }) as BrowserCommand<[url: string, up: boolean]>,
}

// Real headless Chromium from Debian (never a downloaded browser): IndexedDB, BroadcastChannel and
// Web Locks are the browser's own.
export default defineConfig({
  optimizeDeps: { include: ['idb'] },
  test: {
    name: 'browser',
    include: ['**/*.test.ts'],
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      commands,
      provider: playwright({
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
})
