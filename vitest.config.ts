import { defineConfig } from 'vitest/config'

// One project per runtime keeps each honest: node here; browser (Chromium) and workers (workerd)
// join as their adapters land.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
    ],
  },
})
