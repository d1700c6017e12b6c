// The benchmark runner (`npm run bench`, after a build). Every measurement runs in a fresh
// `node --expose-gc bench/cases/<case>.js ...` process, RUNS times, interleaved (run 1 of every job,
// then run 2, ...) so that noise on the machine hits tidings and its peers alike; the median is
// reported, with the spread (max - min) / median. Results go to stdout and bench/results.json.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from './harness.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5))
const ENTRY_LIMIT = 5 * 1024 // the issue's bundle budget (test/bundle.test.ts): the entry chunk, gzip -9

// Events per round. tidings' cost per publish grows with the burst size (see the report), so the
// live case is measured at two burst sizes; peers are O(1) per emit and get more events per round
// only so that a round lasts long enough to time.
// The 100k burst takes seconds per round, so each of its processes warms up on 10k and times one round.
const LIVE = [
  { subject: 'tidings', n: 10_000 },
  { subject: 'tidings', n: 100_000, env: { BENCH_ROUNDS: '1', BENCH_WARMUP_N: '10000' } },
  { subject: 'mitt', n: 5_000_000 },
  { subject: 'eventemitter3', n: 10_000_000 },
]
const LISTENERS = [10, 1_000, 10_000]
const WILDCARD = LISTENERS.flatMap((listeners) => [
  { subject: 'tidings', listeners, n: 10_000 },
  { subject: 'eventemitter2', listeners, n: 200_000 },
  { subject: 'tidings-trie', listeners, n: 500_000 },
])

const jobs = [
  ...LIVE.map((j) => ({ ...j, case: 'live', args: [j.subject, j.n] })),
  ...WILDCARD.map((j) => ({ ...j, case: 'wildcard', args: [j.subject, j.listeners, j.n] })),
]

/** Runs one case script in a fresh process; returns its JSON line. */
const runCase = (name, args, env = {}) => {
  const script = path.join('bench', 'cases', `${name}.js`)
  const r = spawnSync(process.execPath, ['--expose-gc', script, ...args.map(String)], {
    cwd: ROOT, encoding: 'utf8', timeout: 300_000, maxBuffer: 16 << 20, env: { ...process.env, ...env },
  })
  if (r.status !== 0) {
    throw new Error(`${script} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}, signal ${r.signal}`}):\n${r.stderr}`)
  }
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

// ---------- formatting ----------
const int = (x) => Math.round(x).toLocaleString('en-US')
const ratio = (x) => (x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)) + '×'
const pct = (x) => `±${Math.round(x * 50)}%` // half the (max - min) / median range
const mark = (ok) => (ok ? '✅' : '❌')

/** A table whose columns are padded, so it reads well on a terminal and is valid markdown. */
const table = (head, rows) => {
  const all = [head, ...rows].map((r) => r.map(String))
  const w = head.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)))
  const line = (r) => `| ${r.map((c, i) => c + ' '.repeat(w[i] - [...c].length)).join(' | ')} |`
  return [line(all[0]), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...all.slice(1).map(line)].join('\n')
}

// ---------- measure ----------
const started = performance.now()
const load0 = os.loadavg()
process.stderr.write(`tidings bench: ${jobs.length} jobs × ${RUNS} runs, one process each (node ${process.version}, ${os.cpus().length} cpus)\n`)
for (const job of jobs) job.samples = []
for (let run = 1; run <= RUNS; run++) {
  const t0 = performance.now()
  for (const job of jobs) {
    job.samples.push(runCase(job.case, job.args, job.env).opsPerSec)
    process.stderr.write('.')
  }
  process.stderr.write(` run ${run}/${RUNS} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
}
for (const job of jobs) {
  job.opsPerSec = median(job.samples)
  job.spread = (Math.max(...job.samples) - Math.min(...job.samples)) / job.opsPerSec
}
const bundle = runCase('bundle', [])
const wallSeconds = (performance.now() - started) / 1000

const find = (c, subject, x = {}) => jobs.find((j) => j.case === c && j.subject === subject && Object.entries(x).every(([k, v]) => j[k] === v))
const mitt = find('live', 'mitt')
const ee3 = find('live', 'eventemitter3')
const liveT = LIVE.filter((j) => j.subject === 'tidings').map((j) => find('live', 'tidings', { n: j.n }))
const wild = LISTENERS.map((listeners) => ({
  listeners,
  t: find('wildcard', 'tidings', { listeners }),
  ee2: find('wildcard', 'eventemitter2', { listeners }),
  trie: find('wildcard', 'tidings-trie', { listeners }),
}))
const first = wild[0]
const last = wild[wild.length - 1]
const flat = (k) => last[k].opsPerSec / first[k].opsPerSec

const goals = [
  ...liveT.map((t) => ({ goal: `live (burst of ${int(t.n)}): tidings ≥ 0.2× mitt`, value: t.opsPerSec / mitt.opsPerSec, min: 0.2 })),
  { goal: 'wildcard, 10 patterns: tidings ≥ 1× eventemitter2', value: first.t.opsPerSec / first.ee2.opsPerSec, min: 1 },
  { goal: 'wildcard, 10,000 patterns: tidings ≥ 2× eventemitter2', value: last.t.opsPerSec / last.ee2.opsPerSec, min: 2 },
  { goal: 'wildcard flatness: tidings ops/s at 10,000 ÷ at 10 patterns ≥ 0.8×', value: flat('t'), min: 0.8 },
  { goal: `bundle: tidings entry chunk ≤ ${int(ENTRY_LIMIT)} B gzip`, value: bundle.tidings.entryGzip, max: ENTRY_LIMIT, bytes: true },
  { goal: `bundle: tidings entry + statically imported chunks ≤ ${int(ENTRY_LIMIT)} B gzip (what loads up front)`, value: bundle.tidings.eagerGzip, max: ENTRY_LIMIT, bytes: true },
].map((g) => ({ ...g, met: g.max === undefined ? g.value >= g.min : g.value <= g.max }))

// ---------- report: detailed console tables ----------
const out = []
out.push('', `## Live dispatch: publish/emit, exact topic, one counting listener (median of ${RUNS} processes)`, '')
out.push(table(
  ['subject', 'events/round', 'ops/s', 'spread', 'runs (ops/s)', 'tidings(10k) ÷ it', 'tidings(100k) ÷ it'],
  [...liveT, mitt, ee3].map((j) => [
    j.subject === 'tidings' ? `tidings (burst ${int(j.n)})` : j.subject, int(j.n), int(j.opsPerSec), pct(j.spread),
    j.samples.map(int).join(' '), ratio(liveT[0].opsPerSec / j.opsPerSec), ratio(liveT[1].opsPerSec / j.opsPerSec),
  ]),
))
out.push('', `## Wildcard dispatch: publish/emit of one topic that 2 of N patterns match (median of ${RUNS} processes)`, '')
out.push(table(
  ['patterns', 'tidings ops/s', 'spread', 'eventemitter2 ops/s', 'spread', 'tidings ÷ EE2', 'trie alone ops/s (diagnostic)', 'trie ÷ EE2'],
  wild.map((w) => [
    int(w.listeners), int(w.t.opsPerSec), pct(w.t.spread), int(w.ee2.opsPerSec), pct(w.ee2.spread),
    ratio(w.t.opsPerSec / w.ee2.opsPerSec), int(w.trie.opsPerSec), ratio(w.trie.opsPerSec / w.ee2.opsPerSec),
  ]),
))
out.push('', `flatness (ops/s at ${int(last.listeners)} ÷ at ${int(first.listeners)} patterns): tidings ${ratio(flat('t'))}, eventemitter2 ${ratio(flat('ee2'))}, tidings trie alone ${ratio(flat('trie'))}`)
out.push('', '## Bundle: one-line import, entry chunk only (esbuild ESM, splitting, minify, browser; gzip -9)', '')
out.push(table(
  ['library', 'entry raw', 'entry gzip', 'tidings ÷ it', 'entry + static chunks gzip', 'other chunks (gzip)'],
  Object.entries(bundle).map(([name, b]) => [
    name, `${int(b.entryRaw)} B`, `${int(b.entryGzip)} B`, ratio(bundle.tidings.entryGzip / b.entryGzip), `${int(b.eagerGzip)} B`,
    b.chunks.length ? b.chunks.map((c) => `${c.file} ${int(c.gzip)} B (${c.eager ? 'static import: loads with the entry' : 'lazy'})`).join(', ') : '—',
  ]),
))
out.push('', `tidings entry chunk by source file (minified bytes before gzip): ${bundle.tidings.inputs.map((i) => `${i.path} ${int(i.bytes)}`).join(', ')}`)
out.push('', '## Goals', '')
out.push(table(['goal', 'measured', 'met'], goals.map((g) => [g.goal, g.bytes ? `${int(g.value)} B` : ratio(g.value), mark(g.met)])))

// ---------- report: README-ready markdown ----------
const md = [
  `Measured with \`npm run bench\` on Node ${process.version.slice(1)}, ${os.cpus().length} CPUs; median of ${RUNS} fresh processes per number.`,
  '',
  '| benchmark | tidings | peer | tidings ÷ peer |',
  '|---|---:|---:|---:|',
  ...liveT.flatMap((t) => [
    `| live \`publish\`, exact topic, 1 listener, burst of ${int(t.n)} | ${int(t.opsPerSec)} ops/s | mitt ${int(mitt.opsPerSec)} ops/s | ${ratio(t.opsPerSec / mitt.opsPerSec)} |`,
    `| ″ | ″ | eventemitter3 ${int(ee3.opsPerSec)} ops/s | ${ratio(t.opsPerSec / ee3.opsPerSec)} |`,
  ]),
  ...wild.map((w) => `| wildcard \`publish\`, ${int(w.listeners)} patterns (2 match) | ${int(w.t.opsPerSec)} ops/s | eventemitter2 ${int(w.ee2.opsPerSec)} ops/s | ${ratio(w.t.opsPerSec / w.ee2.opsPerSec)} |`),
  ...Object.entries(bundle).filter(([n]) => n !== 'tidings').map(([n, b]) =>
    `| bundle, entry chunk (min + gzip -9) | ${int(bundle.tidings.entryGzip)} B | ${n} ${int(b.entryGzip)} B | ${ratio(bundle.tidings.entryGzip / b.entryGzip)} |`),
  `| bundle, entry + statically imported chunks | ${int(bundle.tidings.eagerGzip)} B | | |`,
].join('\n')

out.push('', '## README.md (paste as is)', '', md, '')
out.push(`total wall time: ${wallSeconds.toFixed(1)} s; load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
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
  jobs: jobs.map(({ case: c, subject, n, listeners, opsPerSec, spread, samples }) => ({ case: c, subject, n, listeners, opsPerSec, spread, samples })),
  bundle,
  goals,
  readme: md,
}
writeFileSync(path.join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n')
