import { defineConfig } from 'vitest/config'
import { playwright } from '@vitest/browser-playwright'

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
      provider: playwright({
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run'],
        },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
})
