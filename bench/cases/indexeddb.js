// Case: tidings over IndexedDB in headless Chromium (Debian's), side by side with raw IndexedDB in
// the same page and the same run, interleaved round by round: (a) unawaited publishes vs one
// transaction of puts, (b) awaited publishes vs one transaction per put, (c) durable events handled
// per second. A persistent (on-disk) profile: incognito contexts keep IndexedDB in memory.
// usage: node bench/cases/indexeddb.js [rounds]   (prints one JSON line; needs `npm run build` first)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { median } from '../harness.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ROUNDS = Number(process.argv[2] ?? process.env.BENCH_ROUNDS ?? 5)
const N = { batch: 5_000, single: 500, durable: 2_000 }
const TIMEOUT = 120_000

const bundle = await build({
  entryPoints: [path.join(ROOT, 'bench/cases/indexeddb/page.js')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  write: false,
  minify: true,
  logLevel: 'error',
})
const script = bundle.outputFiles[0].text
const html =
  '<!doctype html><meta charset="utf-8"><title>tidings indexeddb bench</title><script type="module" src="/page.js"></script>'
// IndexedDB needs an http(s) origin: serve the page from 127.0.0.1.
const server = createServer((req, res) => {
  if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
  else res.writeHead(200, { 'content-type': 'text/html' }).end(html)
})
await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
const profile = mkdtempSync(path.join(os.tmpdir(), 'tidings-idb-bench-'))
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

/** Runs one measurement in the page; page.evaluate has no timeout of its own. */
const inPage = async (fn, n) => {
  let timer
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${fn}(${n}) took over ${TIMEOUT} ms`)), TIMEOUT)
  })
  try {
    return await Promise.race([page.evaluate(([f, k]) => window.bench[f](k), [fn, n]), limit])
  } finally {
    clearTimeout(timer)
  }
}

let page
const samples = {
  rawOneTx: [],
  publishUnawaited: [],
  rawTxPerPut: [],
  publishAwaited: [],
  durable: [],
  durable16: [],
}
try {
  page = context.pages()[0] ?? (await context.newPage())
  await page.goto(`http://127.0.0.1:${server.address().port}/`)
  await page.waitForFunction(() => window.bench !== undefined, null, { timeout: 30_000 })
  // Warm-up: JIT, the profile's first database, the bundle's lazy chunks (inlined here).
  await inPage('rawOneTx', 1000)
  await inPage('publishUnawaited', 1000)
  await inPage('publishAwaited', 50)
  await inPage('durable', 200)
  const jobs = [
    ['rawOneTx', N.batch],
    ['publishUnawaited', N.batch],
    ['rawTxPerPut', N.single],
    ['publishAwaited', N.single],
    ['durable', N.durable],
    ['durable16', N.durable],
  ]
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which side goes first, so drift within a round does not favour one.
    for (const [fn, n] of r % 2 ? jobs : [...jobs].reverse())
      samples[fn].push((n / (await inPage(fn, n))) * 1000)
    process.stderr.write('.')
  }
} finally {
  await context.close().catch(() => {})
  server.close()
  rmSync(profile, { recursive: true, force: true })
}
const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
process.stdout.write(
  JSON.stringify({
    n: N,
    rounds: ROUNDS,
    opsPerSec: med,
    samples,
    ratios: {
      unawaited: med.publishUnawaited / med.rawOneTx,
      awaited: med.publishAwaited / med.rawTxPerPut,
    },
  }) + '\n',
)
