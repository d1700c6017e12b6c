// `npm run demo`: builds the page and the Worker, starts the edge in Miniflare (no account, no
// network) from demo/wrangler.toml, fires its Cron Triggers, and serves the page from the same
// origin until Ctrl-C. PORT overrides the port (default 8787); DEMO_STATE the folder the edge's
// Durable Objects persist to (default .demo-state/; empty: memory only).
import { Miniflare } from 'miniflare'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { buildPage, buildWorker } from './build.js'
import { driveCrons } from './cron.js'

// Local only: no Cloudflare account, no network, no telemetry.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false'
process.env.WRANGLER_SEND_METRICS = 'false'

const here = dirname(fileURLToPath(import.meta.url))

/**
 * Starts the demo; resolves `{ url, close }` once it serves.
 *
 * @example
 * const demo = await startDemo({ port: 8787 })
 * console.log(demo.url)
 * await demo.close()
 */
export const startDemo = async ({
  port = 8787,
  host = '127.0.0.1',
  state = join(here, '..', '.demo-state'),
} = {}) => {
  // Loaded here, not at the top: wrangler takes seconds to import and only this needs it.
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await import('wrangler')
  const config = join(here, 'wrangler.toml')
  await buildPage()
  const script = await buildWorker()
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config)
  const { name, triggers } = unstable_readConfig({ config })
  // The edge keeps its Durable Objects on disk, as Cloudflare would across restarts: the shop's
  // browser and the edge stay in step when the demo is stopped and started again.
  const mf = new Miniflare({
    ...workerOptions,
    name,
    modules: true,
    script,
    host,
    port,
    ...(state ? { durableObjectsPersist: state } : {}),
  })
  const url = await mf.ready
  const worker = await mf.getWorker()
  const stopCrons = driveCrons(triggers.crons ?? [], async (cron, at) => {
    const { outcome } = await worker.scheduled({ cron, scheduledTime: new Date(at) })
    if (outcome !== 'ok') throw new Error(`scheduled() for "${cron}" ended with ${outcome}`)
  })
  return {
    url: url.href,
    crons: triggers.crons ?? [],
    state,
    async close() {
      stopCrons()
      await mf.dispose()
    },
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const demo = await startDemo({
    port: Number(process.env.PORT ?? 8787),
    ...(process.env.DEMO_STATE !== undefined ? { state: process.env.DEMO_STATE } : {}),
  })
  console.log(
    `tidings demo: ${demo.url}  (edge in Miniflare, crons ${demo.crons.join(', ')}; ` +
      `${demo.state ? `edge state in ${relative(process.cwd(), demo.state) || '.'}/, delete it to start over` : 'edge state in memory'}; Ctrl-C to stop)`,
  )
  const stop = async () => {
    await demo.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
