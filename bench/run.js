// The benchmark runner (`npm run bench`, after a build). Every measurement runs in a fresh
// `node --expose-gc bench/cases/<case>.js ...` process, RUNS times, interleaved (run 1 of every job,
// then run 2, ...) so that noise on the machine hits tidings and its peers alike; the median is
// reported, with the spread (max - min) / median. Results go to stdout and bench/results.json.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ENTRY_BUDGET } from './bundle.js'
import { median } from './harness.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5))
// The bundle budget (test/bundle.test.ts): the entry chunk of createBus + on + publish, gzip -9.
// What loads up front (the entry plus its static chunks) is printed beside it, not budgeted.
const ENTRY_LIMIT = ENTRY_BUDGET
// The size cases (deterministic, seconds): `node bench/run.js bundle offline` runs just those and
// prints their tables; the timed cases run only together (their ratios need every peer).
const SIZE_CASES = ['bundle', 'offline']
const ONLY = process.argv.slice(2)
if (ONLY.some((name) => !SIZE_CASES.includes(name))) {
  process.stderr.write(
    `bench/run.js [${SIZE_CASES.join(' ')}]: only the size cases run alone; no arguments runs everything\n`,
  )
  process.exit(2)
}

// Events per round. tidings' cost per publish grows with the burst size (see the report), so the
// live case is measured at two burst sizes; peers are O(1) per emit and get more events per round
// only so that a round lasts long enough to time.
// The 100k burst takes seconds per round, so each of its processes warms up on 10k and times one round.
const LIVE = [
  { subject: 'tidings', n: 10_000 },
  { subject: 'tidings', n: 100_000, env: { BENCH_ROUNDS: '1', BENCH_WARMUP_N: '10000' } },
  { subject: 'tidings-1kb', n: 10_000 },
  { subject: 'emittery', n: 100_000 },
  { subject: 'mitt', n: 5_000_000 },
  { subject: 'eventemitter3', n: 10_000_000 },
]
const LISTENERS = [10, 1_000, 10_000]
// One 16-segment publish against a pattern of K `**` (`**.` × K + `x`, never matching): time per match,
// flat in K (a backtracking matcher took ~0.3 s per publish at K = 11, minutes at K = 15).
const STARS = [1, 5, 10, 15]
const GLOBSTAR = STARS.flatMap((stars) => [
  { subject: 'tidings', stars, n: 20_000 },
  { subject: 'tidings-trie', stars, n: 500_000 },
])
const WILDCARD = LISTENERS.flatMap((listeners) => [
  { subject: 'tidings', listeners, n: 10_000 },
  { subject: 'eventemitter2', listeners, n: 200_000 },
  { subject: 'tidings-trie', listeners, n: 500_000 },
])

// Durable delivery: one durable subscription, async no-op handler, 100,000 unawaited publishes until
// idle, against emittery's awaited emit and the job queues p-queue and fastq at the same concurrency;
// and one hot ordering key against unkeyed events, at concurrency 16. A 100k round of tidings takes from seconds (concurrency 16)
// to ~40 s (concurrency 1): one timed round per process after a 10k warm-up, and concurrency 1
// runs in fewer processes than the others (`runs`) to keep `npm run bench` near 5 minutes.
const ONE_ROUND = { BENCH_ROUNDS: '1', BENCH_WARMUP_N: '10000' }
const DURABLE = [
  { subject: 'tidings', concurrency: 1, n: 100_000, env: ONE_ROUND, runs: 1 },
  { subject: 'tidings', concurrency: 16, n: 100_000, env: ONE_ROUND },
  { subject: 'tidings-hotkey', concurrency: 16, n: 100_000, env: ONE_ROUND },
  { subject: 'emittery', n: 100_000 },
  // The same rounds traced: `instrumentation: otel()` over the real SDK (issue 17's cost row).
  { subject: 'tidings-otel', concurrency: 1, n: 100_000, env: ONE_ROUND, runs: 1 },
  { subject: 'tidings-otel', concurrency: 16, n: 100_000, env: ONE_ROUND },
  ...[1, 16].flatMap((concurrency) => [
    { subject: 'p-queue', concurrency, n: 100_000 },
    { subject: 'fastq', concurrency, n: 100_000 },
  ]),
]
// Publish-to-handler latency at a steady rate (~3 s per process after a 1 s warm-up).
const LATENCY = { rate: 10_000, n: 30_000, subjects: ['durable', 'live'] }
const LATENCY_GOAL_MS = 2
// Heap after 1,000,000 handled events: one process (it takes minutes; heap use is not a timing).
const HEAP = { n: 1_000_000, burst: 10_000, checkpoints: [100_000, 500_000, 1_000_000], runs: 1 }
const HEAP_GOAL = 20 * 1024 * 1024
const HEAP_GROWTH = 1.1 // "not growing with the count": heap at 1M ≤ 1.1× heap at 100k
// Schedules: N cron schedules firing once each in an hour of manual-clock time; the advance is timed.
const SCHEDULES = [100, 1_000, 10_000]
const SCHEDULES_GOAL_MS = 200
// HTTP: publish requests through the Hono app on the memory bus vs a bare Hono route, in-process.
const HTTP = [
  { subject: 'tidings', n: 20_000 },
  { subject: 'bare', n: 20_000 },
]
// IndexedDB in headless Chromium, side by side with raw IndexedDB in one page: one process that
// runs its own interleaved rounds (a browser launch per round would time the launch).
const IDB = { rounds: 5 }

// Cloudflare (workerd via Miniflare, driven from inside a Worker): K = 100 producers publishing
// through cloudflareBus (group commit) vs one RPC per event doing one raw SQL INSERT; publishMany of
// 100; Queue delivery to a no-op handler. Each process starts its own Miniflare.
const CLOUDFLARE = [
  { subject: 'group', n: 5_000, k: 100 },
  { subject: 'raw', n: 5_000, k: 100 },
  { subject: 'batch', n: 5_000, k: 100 },
  { subject: 'queue', n: 5_000, k: 100 },
]

// SQLite in Node (tidings/sqlite over better-sqlite3, a temp file, WAL) vs a raw better-sqlite3 loop
// writing the same records: unawaited publishes vs one transaction of inserts, awaited publishes vs
// one transaction per insert; a durable backlog handled at concurrency 1.
const SQLITE = [
  { subject: 'raw-batched', n: 20_000 },
  { subject: 'unawaited', n: 20_000 },
  { subject: 'raw-each', n: 2_000 },
  { subject: 'awaited', n: 2_000 },
  { subject: 'durable', n: 5_000 },
]

const jobs = [
  ...LIVE.map((j) => ({ ...j, case: 'live', args: [j.subject, j.n] })),
  ...WILDCARD.map((j) => ({ ...j, case: 'wildcard', args: [j.subject, j.listeners, j.n] })),
  ...GLOBSTAR.map((j) => ({ ...j, case: 'globstar', args: [j.subject, j.stars, j.n] })),
  ...DURABLE.map((j) => ({
    ...j,
    case: 'durable',
    args: j.concurrency ? [j.subject, j.n, j.concurrency] : [j.subject, j.n],
  })),
  ...LATENCY.subjects.map((subject) => ({
    subject,
    case: 'latency',
    args: [subject, LATENCY.rate, LATENCY.n],
  })),
  {
    subject: 'tidings',
    case: 'heap',
    runs: HEAP.runs,
    args: [HEAP.n, HEAP.burst, HEAP.checkpoints.join(',')],
  },
  ...SCHEDULES.map((n) => ({
    subject: 'tidings',
    case: 'schedules',
    n,
    runs: 3,
    args: ['tidings', n],
  })),
  ...HTTP.map((j) => ({ ...j, case: 'http', args: [j.subject, j.n] })),
  ...CLOUDFLARE.map((j) => ({ ...j, case: 'cloudflare', args: [j.subject, j.n, j.k] })),
  { subject: 'tidings', case: 'indexeddb', runs: 1, args: [IDB.rounds] },
  ...SQLITE.map((j) => ({ ...j, case: 'sqlite', args: [j.subject, j.n] })),
]
// Cases that print something other than { opsPerSec }: their samples are the whole JSON lines.
const RAW = new Set(['latency', 'heap', 'schedules', 'indexeddb'])

/** Runs one case script in a fresh process; returns its JSON line. */
const runCase = (name, args, env = {}) => {
  const script = path.join('bench', 'cases', `${name}.js`)
  const r = spawnSync(process.execPath, ['--expose-gc', script, ...args.map(String)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 16 << 20,
    env: { ...process.env, ...env },
  })
  if (r.status !== 0) {
    throw new Error(
      `${script} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}, signal ${r.signal}`}):\n${r.stderr}`,
    )
  }
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

// ---------- formatting ----------
const int = (x) => Math.round(x).toLocaleString('en-US')
const ratio = (x) => (x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)) + '×'
const pct = (x) => `±${Math.round(x * 50)}%` // half the (max - min) / median range
const mark = (ok) => (ok ? '✅' : '❌')
const ms = (x) =>
  (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toFixed(3)) +
  ' ms'
const mb = (x) => (x / 1024 / 1024).toFixed(1) + ' MB'
const runsNote = (j) => (j.runs === RUNS ? '' : ` (${j.runs} process${j.runs === 1 ? '' : 'es'})`)

/** A table whose columns are padded, so it reads well on a terminal and is valid markdown. */
const table = (head, rows) => {
  const all = [head, ...rows].map((r) => r.map(String))
  const w = head.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)))
  const line = (r) => `| ${r.map((c, i) => c + ' '.repeat(w[i] - [...c].length)).join(' | ')} |`
  return [
    line(all[0]),
    `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`,
    ...all.slice(1).map(line),
  ].join('\n')
}

// ---------- size cases: bundle and offline-first page ----------
const kb = (bytes) => `${int(bytes)} B`
const bundleTable = (bundle) => [
  "## Bundle: createBus + on + publish and the peers' equivalents (esbuild ESM, splitting, minify, browser; gzip -9)",
  '',
  table(
    [
      'library',
      'entry raw',
      'entry gzip',
      'tidings ÷ it',
      'entry + static chunks gzip',
      'up front gzip (+ lazy chunks start-up loads)',
      'other chunks (gzip)',
    ],
    Object.entries(bundle).map(([name, b]) => [
      name,
      kb(b.entryRaw),
      kb(b.entryGzip),
      ratio(bundle.tidings.entryGzip / b.entryGzip),
      kb(b.eagerGzip),
      kb(b.upFrontGzip),
      b.chunks.length
        ? b.chunks
            .map(
              (c) =>
                `${c.file} ${int(c.gzip)} B (${c.eager ? 'static import: loads with the entry' : 'lazy'})`,
            )
            .join(', ')
        : '—',
    ]),
  ),
  '',
  `tidings entry chunk by source file (minified bytes before gzip): ${bundle.tidings.inputs.map((i) => `${i.path} ${int(i.bytes)}`).join(', ')}`,
  '',
  `budget: entry chunk ≤ ${kb(ENTRY_LIMIT)} gzip: ${kb(bundle.tidings.entryGzip)} ${mark(bundle.tidings.entryGzip <= ENTRY_LIMIT)}`,
]
const offlineTable = (offline) => [
  '## Offline-first page: what it downloads (esbuild ESM, splitting, minify, browser; gzip -9). Up front: the entry, the chunks it imports statically, the lazy chunks its own start-up calls load',
  '',
  table(
    ['page', 'entry gzip', '÷ tidings', 'up front gzip', '÷ tidings', 'what the page does'],
    Object.entries(offline).map(([name, page]) => [
      name,
      kb(page.entryGzip),
      ratio(page.entryGzip / offline.tidings.entryGzip),
      kb(page.upFrontGzip),
      ratio(page.upFrontGzip / offline.tidings.upFrontGzip),
      page.does,
    ]),
  ),
]
if (ONLY.length) {
  const sections = {
    bundle: () => bundleTable(runCase('bundle', [])),
    offline: () => offlineTable(runCase('offline', [])),
  }
  process.stdout.write(ONLY.flatMap((name) => ['', ...sections[name]()]).join('\n') + '\n')
  process.exit(0)
}

// ---------- measure ----------
const started = performance.now()
const load0 = os.loadavg()
process.stderr.write(
  `tidings bench: ${jobs.length} jobs × up to ${RUNS} runs, one process each (node ${process.version}, ${os.cpus().length} cpus)\n`,
)
for (const job of jobs) {
  job.runs = Math.min(RUNS, job.runs ?? RUNS)
  job.samples = []
}
for (let run = 1; run <= RUNS; run++) {
  const t0 = performance.now()
  for (const job of jobs) {
    if (run > job.runs) continue
    const r = runCase(job.case, job.args, job.env)
    job.samples.push(RAW.has(job.case) ? r : r.opsPerSec)
    process.stderr.write('.')
  }
  process.stderr.write(` run ${run}/${RUNS} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
}
for (const job of jobs.filter((j) => !RAW.has(j.case))) {
  job.opsPerSec = median(job.samples)
  job.spread = (Math.max(...job.samples) - Math.min(...job.samples)) / job.opsPerSec
}
// Latency: the median over processes of each statistic (p50, p99, max, ...).
for (const job of jobs.filter((j) => j.case === 'latency')) {
  for (const k of ['p50', 'p99', 'max', 'mean', 'over2ms', 'lateMs'])
    job[k] = median(job.samples.map((s) => s[k]))
  job.gcMs = median(job.samples.map((s) => s.gc.totalMs))
  job.gcMaxMs = median(job.samples.map((s) => s.gc.maxMs))
}
const bundle = runCase('bundle', [])
const offline = runCase('offline', [])
const wallSeconds = (performance.now() - started) / 1000

const find = (c, subject, x = {}) =>
  jobs.find(
    (j) => j.case === c && j.subject === subject && Object.entries(x).every(([k, v]) => j[k] === v),
  )
const mitt = find('live', 'mitt')
const ee3 = find('live', 'eventemitter3')
const liveT = LIVE.filter((j) => j.subject === 'tidings').map((j) =>
  find('live', 'tidings', { n: j.n }),
)
const liveEmittery = find('live', 'emittery')
const live1kb = find('live', 'tidings-1kb')
const wild = LISTENERS.map((listeners) => ({
  listeners,
  t: find('wildcard', 'tidings', { listeners }),
  ee2: find('wildcard', 'eventemitter2', { listeners }),
  trie: find('wildcard', 'tidings-trie', { listeners }),
}))
const globstar = STARS.map((stars) => ({
  stars,
  t: find('globstar', 'tidings', { stars }),
  trie: find('globstar', 'tidings-trie', { stars }),
}))
const globFlat = (k) => globstar[globstar.length - 1][k].opsPerSec / globstar[0][k].opsPerSec
const usPer = (j) => (1e6 / j.opsPerSec).toFixed(2) + ' µs'
const first = wild[0]
const last = wild[wild.length - 1]
const flat = (k) => last[k].opsPerSec / first[k].opsPerSec
const emittery = find('durable', 'emittery')
const durableT = DURABLE.filter((j) => j.subject === 'tidings').map((j) =>
  find('durable', 'tidings', { concurrency: j.concurrency }),
)
const durableOtel = DURABLE.filter((j) => j.subject === 'tidings-otel').map((j) =>
  find('durable', 'tidings-otel', { concurrency: j.concurrency }),
)
const untraced = (j) => durableT.find((t) => t.concurrency === j.concurrency)
const queues = durableT.map((t) => ({
  t,
  pQueue: find('durable', 'p-queue', { concurrency: t.concurrency }),
  fastq: find('durable', 'fastq', { concurrency: t.concurrency }),
}))
const hotKey = find('durable', 'tidings-hotkey', { concurrency: 16 })
const unkeyed16 = find('durable', 'tidings', { concurrency: 16 })
const lat = Object.fromEntries(LATENCY.subjects.map((s) => [s, find('latency', s)]))
const heapJob = find('heap', 'tidings')
const heapRun =
  heapJob.samples[0] && // one process by default; with more, the one with the median heap at the end
  [...heapJob.samples].sort((a, b) => a.at[HEAP.n].heapUsed - b.at[HEAP.n].heapUsed)[
    (heapJob.samples.length - 1) >> 1
  ]
const heapAt = (k) => heapRun.at[k].heapUsed
const heapFirst = heapAt(HEAP.checkpoints[0])
const heapLast = heapAt(HEAP.n)
const sched = SCHEDULES.map((n) => {
  const j = jobs.find((x) => x.case === 'schedules' && x.n === n)
  const runs = [...j.samples].sort((a, b) => a.ms - b.ms)
  return runs[(runs.length - 1) >> 1]
})

const idb = find('indexeddb', 'tidings').samples[0]
const sqlite = Object.fromEntries(SQLITE.map((j) => [j.subject, find('sqlite', j.subject)]))
const sqliteRatio = {
  unawaited: sqlite.unawaited.opsPerSec / sqlite['raw-batched'].opsPerSec,
  awaited: sqlite.awaited.opsPerSec / sqlite['raw-each'].opsPerSec,
}

// Goals: issue 16's (durable vs p-queue, hot key, live vs emittery, 10k wildcard, IndexedDB and
// Durable Object vs raw, heap) where it set one, the earlier issues' otherwise.
const goals = [
  ...liveT.map((t) => ({
    goal: `live (burst of ${int(t.n)}): tidings ≥ 0.2× mitt`,
    value: t.opsPerSec / mitt.opsPerSec,
    min: 0.2,
  })),
  {
    goal: 'live (burst of 10,000): tidings ≥ 3× emittery',
    value: liveT[0].opsPerSec / liveEmittery.opsPerSec,
    min: 3,
  },
  ...queues.map((q) => ({
    goal: `durable handling (concurrency ${q.t.concurrency}, store commit included): tidings ≥ 1× p-queue`,
    value: q.t.opsPerSec / q.pQueue.opsPerSec,
    min: 1,
  })),
  {
    goal: 'one hot ordering key ≥ 0.9× unkeyed (concurrency 16)',
    value: hotKey.opsPerSec / unkeyed16.opsPerSec,
    min: 0.9,
  },
  {
    goal: 'wildcard, 10 patterns: tidings ≥ 1× eventemitter2',
    value: first.t.opsPerSec / first.ee2.opsPerSec,
    min: 1,
  },
  {
    goal: 'wildcard, 10,000 patterns: tidings ≥ 1× eventemitter2',
    value: last.t.opsPerSec / last.ee2.opsPerSec,
    min: 1,
  },
  {
    goal: 'wildcard flatness: tidings ops/s at 10,000 ÷ at 10 patterns ≥ 0.8×',
    value: flat('t'),
    min: 0.8,
  },
  {
    goal: `** flatness: trie matches/s with ${STARS[STARS.length - 1]} ** ÷ with ${STARS[0]} ≥ 0.8×`,
    value: globFlat('trie'),
    min: 0.8,
  },
  ...durableT.map((t) => ({
    goal: `durable throughput (concurrency ${t.concurrency}): tidings ≥ 1× emittery`,
    value: t.opsPerSec / emittery.opsPerSec,
    min: 1,
  })),
  {
    goal: `durable publish-to-handler latency at ${int(LATENCY.rate)} events/s: p99 < ${LATENCY_GOAL_MS} ms`,
    value: lat.durable.p99,
    max: LATENCY_GOAL_MS,
    fmt: ms,
    strict: true,
  },
  {
    goal: `heap after ${int(HEAP.n)} handled events (durable, default retention) < ${mb(HEAP_GOAL)}`,
    value: heapLast,
    max: HEAP_GOAL,
    fmt: mb,
    strict: true,
  },
  {
    goal: `heap not growing: heap at ${int(HEAP.n)} ÷ at ${int(HEAP.checkpoints[0])} events ≤ ${HEAP_GROWTH}×`,
    value: heapLast / heapFirst,
    max: HEAP_GROWTH,
  },
  {
    goal: `schedules: ${int(sched.at(-1).n)} schedules, advance one hour < ${SCHEDULES_GOAL_MS} ms`,
    value: sched.at(-1).ms,
    max: SCHEDULES_GOAL_MS,
    fmt: ms,
    strict: true,
  },
  {
    goal: 'schedules: cost per fire at 10,000 ÷ at 1,000 schedules ≤ 1.5× (flat)',
    value: sched.at(-1).usPerFire / sched.at(-2).usPerFire,
    max: 1.5,
  },
  {
    goal: 'HTTP publish through the Hono app ≥ 0.7× a bare Hono route',
    value: find('http', 'tidings').opsPerSec / find('http', 'bare').opsPerSec,
    min: 0.7,
  },
  {
    goal: 'Cloudflare: events/s through Worker → object, group commit ÷ one raw SQL insert per RPC ≥ 10×',
    value: find('cloudflare', 'group').opsPerSec / find('cloudflare', 'raw').opsPerSec,
    min: 10,
  },
  {
    goal: 'IndexedDB (Chromium): unawaited publishes ≥ 0.9× raw puts in one transaction',
    value: idb.ratios.unawaited,
    min: 0.9,
  },
  {
    goal: 'IndexedDB (Chromium): awaited publishes ≥ 0.9× raw one transaction per put',
    value: idb.ratios.awaited,
    min: 0.9,
  },
  {
    goal: 'SQLite (Node): unawaited publishes ≥ 0.9× raw better-sqlite3 inserts in one transaction',
    value: sqliteRatio.unawaited,
    min: 0.9,
  },
  {
    goal: 'SQLite (Node): awaited publishes ≥ 0.9× raw better-sqlite3, one transaction per insert',
    value: sqliteRatio.awaited,
    min: 0.9,
  },
  {
    goal: `bundle: createBus + on + publish, entry chunk ≤ ${int(ENTRY_LIMIT)} B gzip`,
    value: bundle.tidings.entryGzip,
    max: ENTRY_LIMIT,
    bytes: true,
  },
].map((g) => ({
  ...g,
  met: g.max === undefined ? g.value >= g.min : g.strict ? g.value < g.max : g.value <= g.max,
}))

// ---------- report: detailed console tables ----------
const out = []
out.push(
  '',
  `## Live dispatch: publish/emit, exact topic, one counting listener (median of ${RUNS} processes)`,
  '',
)
out.push(
  table(
    [
      'subject',
      'events/round',
      'ops/s',
      'spread',
      'runs (ops/s)',
      'tidings(10k) ÷ it',
      'tidings(100k) ÷ it',
    ],
    [...liveT, live1kb, liveEmittery, mitt, ee3].map((j) => [
      j.subject === 'tidings'
        ? `tidings (burst ${int(j.n)})`
        : j.subject === 'tidings-1kb'
          ? `tidings, 1 kB payload (burst ${int(j.n)})`
          : j.subject,
      int(j.n),
      int(j.opsPerSec),
      pct(j.spread),
      j.samples.map(int).join(' '),
      ratio(liveT[0].opsPerSec / j.opsPerSec),
      ratio(liveT[1].opsPerSec / j.opsPerSec),
    ]),
  ),
)
out.push(
  '',
  `## Wildcard dispatch: publish/emit of one topic that 2 of N patterns match (median of ${RUNS} processes)`,
  '',
)
out.push(
  table(
    [
      'patterns',
      'tidings ops/s',
      'spread',
      'eventemitter2 ops/s',
      'spread',
      'tidings ÷ EE2',
      'trie alone ops/s (diagnostic)',
      'trie ÷ EE2',
    ],
    wild.map((w) => [
      int(w.listeners),
      int(w.t.opsPerSec),
      pct(w.t.spread),
      int(w.ee2.opsPerSec),
      pct(w.ee2.spread),
      ratio(w.t.opsPerSec / w.ee2.opsPerSec),
      int(w.trie.opsPerSec),
      ratio(w.trie.opsPerSec / w.ee2.opsPerSec),
    ]),
  ),
)
out.push(
  '',
  `flatness (ops/s at ${int(last.listeners)} ÷ at ${int(first.listeners)} patterns): tidings ${ratio(flat('t'))}, eventemitter2 ${ratio(flat('ee2'))}, tidings trie alone ${ratio(flat('trie'))}`,
)
out.push(
  '',
  `## 16-segment publish against one pattern of K \`**\` (\`**.\` × K + \`x\`, never matching), median of ${RUNS} processes`,
  '',
)
out.push(
  table(
    [
      'K (** in the pattern)',
      'tidings publish ops/s',
      'µs per publish',
      'spread',
      'trie match alone ops/s',
      'µs per match',
      'spread',
    ],
    globstar.map((g) => [
      g.stars,
      int(g.t.opsPerSec),
      usPer(g.t),
      pct(g.t.spread),
      int(g.trie.opsPerSec),
      usPer(g.trie),
      pct(g.trie.spread),
    ]),
  ),
)
out.push(
  '',
  `flatness (ops/s at K = ${STARS[STARS.length - 1]} ÷ at K = ${STARS[0]}): publish ${ratio(globFlat('t'))}, trie match ${ratio(globFlat('trie'))}`,
)
out.push('', ...bundleTable(bundle))
out.push('', ...offlineTable(offline))
out.push(
  '',
  `## Durable delivery: 1 durable subscription, async no-op handler, ${int(DURABLE[0].n)} unawaited publishes until idle; emittery: awaited emit, 1 async listener (median of ${RUNS} processes unless noted)`,
  '',
)
out.push(
  table(
    ['subject', 'events/round', 'ops/s', 'spread', 'runs (ops/s)', 'tidings ÷ emittery'],
    [...durableT, hotKey, emittery, ...queues.flatMap((q) => [q.pQueue, q.fastq])].map((j) => [
      ({
        tidings: `tidings durable (concurrency ${j.concurrency})`,
        'tidings-hotkey': `tidings durable, one ordering key (concurrency ${j.concurrency})`,
        emittery: 'emittery (await emit)',
      }[j.subject] ?? `${j.subject} (concurrency ${j.concurrency})`) + runsNote(j),
      int(j.n),
      int(j.opsPerSec),
      j.samples.length > 1 ? pct(j.spread) : 'n/a',
      j.samples.map(int).join(' '),
      j === emittery ? '' : ratio(j.opsPerSec / emittery.opsPerSec),
    ]),
  ),
)
out.push(
  '',
  'With `instrumentation: otel()` (tidings/otel over the OpenTelemetry SDK, a publish and a process span per event, BatchSpanProcessor to a dropping exporter):',
  '',
)
out.push(
  table(
    ['subject', 'events/round', 'ops/s', 'spread', 'runs (ops/s)', 'traced ÷ untraced'],
    durableOtel.map((j) => [
      `tidings durable + otel() (concurrency ${j.concurrency})` + runsNote(j),
      int(j.n),
      int(j.opsPerSec),
      j.samples.length > 1 ? pct(j.spread) : 'n/a',
      j.samples.map(int).join(' '),
      ratio(j.opsPerSec / untraced(j).opsPerSec),
    ]),
  ),
)
out.push(
  '',
  `## Publish-to-handler latency at a steady ${int(LATENCY.rate)} events/s, ${int(LATENCY.n)} events (~${LATENCY.n / LATENCY.rate} s) after a 1 s warm-up (median of ${RUNS} processes per statistic)`,
  '',
)
out.push(
  table(
    [
      'listener',
      'p50',
      'p99',
      'max',
      'mean',
      'events > 2 ms',
      'runs (p99)',
      'runs (max)',
      'GC pauses (total / longest)',
      'pacing loop late by',
    ],
    LATENCY.subjects
      .map((s) => lat[s])
      .map((j) => [
        j.subject === 'durable' ? 'durable subscription (concurrency 1)' : 'live listener (bus.on)',
        ms(j.p50),
        ms(j.p99),
        ms(j.max),
        ms(j.mean),
        int(j.over2ms),
        j.samples.map((x) => x.p99.toFixed(2)).join(' '),
        j.samples.map((x) => x.max.toFixed(1)).join(' '),
        `${ms(j.gcMs)} / ${ms(j.gcMaxMs)}`,
        ms(j.lateMs),
      ]),
  ),
)
out.push(
  '',
  `## Heap (heapUsed after gc) with one durable subscription, default retention, bursts of ${int(HEAP.burst)} events awaited with idle${runsNote(heapJob)}`,
  '',
)
out.push(
  table(
    ['events handled', 'heapUsed', 'handling rate since the previous checkpoint'],
    [
      ['0 (after subscribe)', mb(heapRun.base), ''],
      ...HEAP.checkpoints.map((k, i) => [
        int(k),
        mb(heapAt(k)),
        `${int(heapRun.at[k].opsPerSec)} events/s (${int(HEAP.checkpoints[i - 1] ?? 0)} → ${int(k)})`,
      ]),
    ],
  ),
)
out.push(
  '',
  '## Schedules: N cron schedules (`m * * * *`, minutes spread), manual clock advanced one hour (median of the rounds)',
  '',
)
out.push(
  table(
    ['schedules', 'advance 1 h', 'µs per fire', 'runs (ms)'],
    sched.map((x) => [
      int(x.n),
      ms(x.ms),
      x.usPerFire.toFixed(1),
      x.samples.map((v) => v.toFixed(1)).join(' '),
    ]),
  ),
)
out.push(
  '',
  `## Cloudflare, in workerd (Miniflare), driven from inside a Worker (median of ${RUNS} processes)`,
  '',
)
out.push(
  table(
    ['path', 'events/round', 'events/s', 'spread', 'runs (events/s)', '÷ raw insert per RPC'],
    CLOUDFLARE.map((c) => find('cloudflare', c.subject)).map((j) => [
      {
        group: 'cloudflareBus publish, 100 producers (group commit)',
        raw: 'raw: one RPC + one SQL INSERT per event, 100 producers',
        batch: 'cloudflareBus publishMany of 100, one call at a time',
        queue: 'Queue delivery to a no-op handler (concurrency 100, batches of 100), publish → ack',
      }[j.subject],
      int(j.n),
      int(j.opsPerSec),
      pct(j.spread),
      j.samples.map(int).join(' '),
      ratio(j.opsPerSec / find('cloudflare', 'raw').opsPerSec),
    ]),
  ),
)
out.push(
  '',
  `## SQLite in Node: tidings/sqlite (better-sqlite3, a temp file, WAL) vs raw better-sqlite3 on the same records (median of ${RUNS} processes)`,
  '',
)
out.push(
  table(
    ['path', 'events/round', 'events/s', 'spread', 'runs (events/s)', '÷ its raw peer'],
    SQLITE.map((j) => sqlite[j.subject]).map((j) => [
      {
        'raw-batched': 'raw: inserts in one transaction',
        unawaited: 'publish not awaited, then idle (group commit)',
        'raw-each': 'raw: one transaction per insert',
        awaited: 'publish awaited one by one',
        durable: 'durable backlog handled (concurrency 1), subscribe → last ack',
      }[j.subject],
      int(j.n),
      int(j.opsPerSec),
      pct(j.spread),
      j.samples.map(int).join(' '),
      j.subject === 'unawaited'
        ? ratio(sqliteRatio.unawaited)
        : j.subject === 'awaited'
          ? ratio(sqliteRatio.awaited)
          : '',
    ]),
  ),
)
out.push('', '## Goals', '')
out.push(
  table(
    ['goal', 'measured', 'met'],
    goals.map((g) => [
      g.goal,
      g.fmt ? g.fmt(g.value) : g.bytes ? `${int(g.value)} B` : ratio(g.value),
      mark(g.met),
    ]),
  ),
)

// ---------- report: README-ready markdown ----------
const md = [
  `Measured with \`npm run bench\` on Node ${process.version.slice(1)}, ${os.cpus().length} CPUs; median of ${RUNS} fresh processes per number${
    jobs.some((j) => j.runs < RUNS)
      ? ` (fewer for the slowest: ${[...new Set(jobs.filter((j) => j.runs < RUNS).map((j) => `${j.case}${j.concurrency ? ` (concurrency ${j.concurrency})` : ''}: ${j.runs} process${j.runs === 1 ? '' : 'es'}`))].join('; ')})`
      : ''
  }.`,
  '',
  '| benchmark | tidings | peer | tidings ÷ peer |',
  '|---|---:|---:|---:|',
  ...liveT.flatMap((t) => [
    `| live \`publish\`, exact topic, 1 listener, burst of ${int(t.n)} | ${int(t.opsPerSec)} ops/s | mitt ${int(mitt.opsPerSec)} ops/s | ${ratio(t.opsPerSec / mitt.opsPerSec)} |`,
    `| ″ | ″ | eventemitter3 ${int(ee3.opsPerSec)} ops/s | ${ratio(t.opsPerSec / ee3.opsPerSec)} |`,
    `| ″ | ″ | emittery (async \`emit\`) ${int(liveEmittery.opsPerSec)} ops/s | ${ratio(t.opsPerSec / liveEmittery.opsPerSec)} |`,
  ]),
  `| live \`publish\`, 1 kB payload, burst of ${int(live1kb.n)} | ${int(live1kb.opsPerSec)} ops/s | tidings, 20 B payload ${int(liveT[0].opsPerSec)} ops/s | ${ratio(live1kb.opsPerSec / liveT[0].opsPerSec)} |`,
  `| ″ | ″ | eventemitter3 ${int(ee3.opsPerSec)} ops/s | ${ratio(live1kb.opsPerSec / ee3.opsPerSec)} |`,
  ...wild.map(
    (w) =>
      `| wildcard \`publish\`, ${int(w.listeners)} patterns (2 match) | ${int(w.t.opsPerSec)} ops/s | eventemitter2 ${int(w.ee2.opsPerSec)} ops/s | ${ratio(w.t.opsPerSec / w.ee2.opsPerSec)} |`,
  ),
  `| one 16-segment topic against a pattern of ${STARS.join(' / ')} \`**\`: time per match (trie) / per \`publish\` | ${globstar.map((g) => usPer(g.trie)).join(' / ')} / ${globstar.map((g) => usPer(g.t)).join(' / ')} | | |`,
  ...Object.entries(bundle)
    .filter(([n]) => n !== 'tidings')
    .map(
      ([n, b]) =>
        `| bundle, entry chunk (min + gzip -9) | ${int(bundle.tidings.entryGzip)} B | ${n} ${int(b.entryGzip)} B | ${ratio(bundle.tidings.entryGzip / b.entryGzip)} |`,
    ),
  `| bundle, up front: entry + static chunks + the memory store's lazy chunk | ${int(bundle.tidings.upFrontGzip)} B | | |`,
  ...Object.entries(offline)
    .filter(([n]) => n !== 'tidings')
    .map(
      ([n, p]) =>
        `| offline-first page, entry / up front (min + gzip -9) | ${int(offline.tidings.entryGzip)} / ${int(offline.tidings.upFrontGzip)} B | ${n} ${int(p.entryGzip)} / ${int(p.upFrontGzip)} B | ${ratio(offline.tidings.entryGzip / p.entryGzip)} / ${ratio(offline.tidings.upFrontGzip / p.upFrontGzip)} |`,
    ),
  ...queues.flatMap(({ t, pQueue, fastq }) => [
    `| durable \`subscribe\` (memory store, commit included), async no-op handler, concurrency ${t.concurrency}, ${int(t.n)} events | ${int(t.opsPerSec)} events/s | emittery (awaited \`emit\`) ${int(emittery.opsPerSec)} events/s | ${ratio(t.opsPerSec / emittery.opsPerSec)} |`,
    `| ″ | ″ | p-queue, concurrency ${t.concurrency} ${int(pQueue.opsPerSec)} jobs/s | ${ratio(t.opsPerSec / pQueue.opsPerSec)} |`,
    `| ″ | ″ | fastq, concurrency ${t.concurrency} ${int(fastq.opsPerSec)} jobs/s | ${ratio(t.opsPerSec / fastq.opsPerSec)} |`,
  ]),
  `| durable, one hot ordering key, concurrency 16 | ${int(hotKey.opsPerSec)} events/s | unkeyed, concurrency 16 ${int(unkeyed16.opsPerSec)} events/s | ${ratio(hotKey.opsPerSec / unkeyed16.opsPerSec)} |`,
  ...durableOtel.map(
    (t) =>
      `| the same with \`otel()\` tracing every event, concurrency ${t.concurrency} | ${int(t.opsPerSec)} events/s | untraced ${int(untraced(t).opsPerSec)} events/s | ${ratio(t.opsPerSec / untraced(t).opsPerSec)} |`,
  ),
  `| publish → durable handler latency at ${int(LATENCY.rate)} events/s (p50 / p99 / max) | ${ms(lat.durable.p50)} / ${ms(lat.durable.p99)} / ${ms(lat.durable.max)} | live listener ${ms(lat.live.p50)} / ${ms(lat.live.p99)} / ${ms(lat.live.max)} | |`,
  `| heap after ${HEAP.checkpoints.map(int).join(' / ')} durably handled events | ${HEAP.checkpoints.map((k) => mb(heapAt(k))).join(' / ')} | | |`,
  `| HTTP \`POST /events\` through the Hono app (memory bus, in-process) | ${int(find('http', 'tidings').opsPerSec)} req/s | bare Hono route ${int(find('http', 'bare').opsPerSec)} req/s | ${ratio(find('http', 'tidings').opsPerSec / find('http', 'bare').opsPerSec)} |`,
  `| Cloudflare (workerd): events/s through Worker → object, 100 producers | ${int(find('cloudflare', 'group').opsPerSec)} events/s (group commit) | one raw SQL INSERT per RPC ${int(find('cloudflare', 'raw').opsPerSec)} events/s | ${ratio(find('cloudflare', 'group').opsPerSec / find('cloudflare', 'raw').opsPerSec)} |`,
  `| Cloudflare (workerd): publishMany of 100 / Queue delivery publish → ack | ${int(find('cloudflare', 'batch').opsPerSec)} / ${int(find('cloudflare', 'queue').opsPerSec)} events/s | | |`,
  `| IndexedDB (headless Chromium): ${int(idb.n.batch)} \`publish\` unawaited, then idle | ${int(idb.opsPerSec.publishUnawaited)} events/s | raw IndexedDB, the same records in one transaction ${int(idb.opsPerSec.rawOneTx)} puts/s | ${ratio(idb.ratios.unawaited)} |`,
  `| IndexedDB (headless Chromium): ${int(idb.n.single)} \`publish\` awaited one by one | ${int(idb.opsPerSec.publishAwaited)} events/s | raw IndexedDB, one transaction per put ${int(idb.opsPerSec.rawTxPerPut)} puts/s | ${ratio(idb.ratios.awaited)} |`,
  `| IndexedDB (headless Chromium): durable backlog of ${int(idb.n.durable)} handled, concurrency 1 / 16 | ${int(idb.opsPerSec.durable)} / ${int(idb.opsPerSec.durable16)} events/s | | |`,
  `| SQLite (Node, better-sqlite3, WAL): ${int(sqlite.unawaited.n)} \`publish\` unawaited, then idle | ${int(sqlite.unawaited.opsPerSec)} events/s | raw better-sqlite3, the same records in one transaction ${int(sqlite['raw-batched'].opsPerSec)} inserts/s | ${ratio(sqliteRatio.unawaited)} |`,
  `| SQLite (Node): ${int(sqlite.awaited.n)} \`publish\` awaited one by one | ${int(sqlite.awaited.opsPerSec)} events/s | raw better-sqlite3, one transaction per insert ${int(sqlite['raw-each'].opsPerSec)} inserts/s | ${ratio(sqliteRatio.awaited)} |`,
  `| SQLite (Node): durable backlog of ${int(sqlite.durable.n)} handled, concurrency 1 | ${int(sqlite.durable.opsPerSec)} events/s | | |`,
  `| schedules: advance one hour with ${sched.map((x) => int(x.n)).join(' / ')} schedules (one fire each) | ${sched.map((x) => ms(x.ms)).join(' / ')} (${sched.map((x) => x.usPerFire.toFixed(0)).join(' / ')} µs per fire) | | |`,
].join('\n')

out.push('', '## README.md (paste as is)', '', md, '')
out.push(
  `total wall time: ${wallSeconds.toFixed(1)} s; load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
process.stdout.write(out.join('\n') + '\n')

const results = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  loadavg: { before: load0, after: os.loadavg() },
  runs: RUNS,
  wallSeconds,
  jobs: jobs.map(
    ({
      case: c,
      subject,
      n,
      k,
      listeners,
      stars,
      concurrency,
      runs,
      opsPerSec,
      spread,
      p50,
      p99,
      max,
      samples,
    }) => ({
      case: c,
      subject,
      n,
      k,
      listeners,
      stars,
      concurrency,
      runs,
      opsPerSec,
      spread,
      p50,
      p99,
      max,
      samples,
    }),
  ),
  bundle,
  offline,
  goals,
  readme: md,
}
writeFileSync(path.join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n')
