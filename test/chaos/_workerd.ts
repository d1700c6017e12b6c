// workerd (through Miniflare) over a persist directory, with the test Worker of test/workers, that a
// test can SIGKILL and start again on the same directory; and a collector on 127.0.0.1 that the
// Worker's handlers report to, so what ran is recorded outside the runtime that may die.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'

const root = join(import.meta.dirname, '../..')

/** The test Worker, bundled as wrangler would (cloudflare:* left to workerd). */
export const bundleWorker = async (): Promise<string> =>
  (
    await build({
      entryPoints: [join(root, 'test/workers/worker.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      external: ['cloudflare:*', 'node:*'],
      target: 'es2022',
      logLevel: 'silent',
    })
  ).outputFiles[0]!.text

/** A running workerd: its Miniflare, its pid (to SIGKILL), and a fetch into the Worker. */
export interface Workerd {
  mf: Miniflare
  pid: number
  api(path: string, init?: RequestInit): Promise<Response>
}

/**
 * Starts workerd on `dir`. Miniflare spawns `MINIFLARE_WORKERD_PATH`: a wrapper that writes its pid
 * and execs workerd, so the test kills exactly the process it started (by pid).
 */
export const startWorkerd = async (
  script: string,
  dir: string,
  bindings: Record<string, string>,
): Promise<Workerd> => {
  const real = createRequire(join(root, 'node_modules/miniflare/package.json'))('workerd')
    .default as string
  const wrapper = join(dir, 'workerd.sh')
  const pidFile = join(dir, 'workerd.pid')
  writeFileSync(wrapper, `#!/bin/sh\necho $$ > '${pidFile}'\nexec '${real}' "$@"\n`)
  chmodSync(wrapper, 0o755)
  writeFileSync(pidFile, '')
  process.env.MINIFLARE_WORKERD_PATH = wrapper
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-04-20',
    compatibilityFlags: ['nodejs_compat'],
    bindings,
    durableObjects: {
      BUS: { className: 'TestBus', useSQLite: true },
      STORE_HOST: { className: 'StoreHost', useSQLite: true },
    },
    queueProducers: { DELIVERY: { queueName: 'tidings-delivery' } },
    queueConsumers: {
      'tidings-delivery': { maxBatchTimeout: 0, maxRetries: 1, deadLetterQueue: 'tidings-dlq' },
      'tidings-dlq': { maxBatchTimeout: 0 },
    },
    durableObjectsPersist: join(dir, 'do'),
  })
  await mf.ready
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  if (!pid) throw new Error('workerd did not report its pid')
  return {
    mf,
    pid,
    api: (path, init) =>
      mf.dispatchFetch(`http://tidings${path}`, init as never) as unknown as Promise<Response>,
  }
}

/** SIGKILLs workerd (nothing flushed, nothing said goodbye), then lets Miniflare forget it. */
export const killWorkerd = async (w: Workerd): Promise<void> => {
  try {
    process.kill(w.pid, 'SIGKILL')
  } catch {
    /* already gone */
  }
  await w.mf.dispose().catch(() => {})
}

/** One report a handler made: which event, which attempt, when it arrived. */
export interface Handling {
  what: string
  id: string
  key?: string
  seq: number
  type: string
  attempt: number
  at: number
}

/**
 * An HTTP server on 127.0.0.1 that records every report (`POST /<what>`) and answers it with what
 * `answer` decides: a status, or 'hold' to leave the handler waiting (until its runtime dies).
 */
export const startCollector = async (answer: (h: Handling) => number | 'hold') => {
  const seen: Handling[] = []
  const held = new Set<ServerResponse>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      const h = {
        ...(JSON.parse(body || '{}') as Handling),
        what: req.url!.slice(1),
        at: Date.now(),
      }
      seen.push(h)
      const a = answer(h)
      if (a === 'hold') {
        held.add(res)
        res.on('close', () => held.delete(res))
        return
      }
      res.writeHead(a).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    seen,
    async close() {
      for (const r of held) r.destroy()
      await new Promise((r) => server.close(() => r(undefined)))
    },
  }
}

/** Polls `f` until it returns something truthy, or fails after `ms` (a generous bound, not a measurement). */
export const until = async <T>(
  f: () => T | Promise<T>,
  what: string,
  ms = 60_000,
): Promise<NonNullable<T>> => {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v as NonNullable<T>
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
