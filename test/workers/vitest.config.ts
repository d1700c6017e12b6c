import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Inside workerd (miniflare), with the bindings of the repository's wrangler.toml.
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: '../../wrangler.toml' } })],
  test: {
    name: 'workers',
    include: ['**/*.test.ts'],
  },
})
