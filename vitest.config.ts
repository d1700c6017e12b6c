import { defineConfig } from 'vitest/config'

// One project per runtime keeps each honest: node here; the browser (real Chromium) and workers
// (workerd) projects live next to their tests, each in its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**', 'test/workers/**', '**/node_modules/**'],
          environment: 'node',
          typecheck: {
            enabled: true,
            include: ['test/**/*.test-d.ts'],
            tsconfig: './tsconfig.json',
          },
        },
      },
      'test/browser/vitest.config.ts',
      'test/workers/vitest.config.ts',
    ],
  },
})
