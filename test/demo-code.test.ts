// The demo's code: it imports the package as a user would (its entry points, never src/ or
// adapters/ directly), and it type-checks (the root tsconfig does not include demo/).
import { execFile } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { specifiers as specifiersOf } from './_specifiers.js'

const root = join(import.meta.dirname, '..')
const files = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((f) => {
    const p = join(dir, f)
    if (f === 'dist' || f === 'node_modules') return []
    return statSync(join(root, p)).isDirectory() ? files(p) : /\.(ts|js)$/.test(f) ? [p] : []
  })
const specifiers = (file: string): string[] => specifiersOf(root, file)
const ENTRY_POINTS = [
  'tidings',
  'tidings/indexeddb',
  'tidings/cloudflare',
  'tidings/hono',
  'tidings/testing',
]
// What the runner (Node) uses to build and serve; the page and the Worker import only tidings.
const RUNNER = ['esbuild', 'miniflare', 'wrangler', 'croner']

describe('the demo code', () => {
  const demo = files('demo')
  it('finds the demo files, and the package imports in them', () => {
    expect(demo.length).toBeGreaterThan(8)
    expect(demo.flatMap(specifiers)).toContain('tidings')
  })

  it.each(demo)('%s imports package entry points, never src/ or adapters/', (file) => {
    for (const s of specifiers(file)) {
      if (s.startsWith('.'))
        expect(
          relative(root, join(root, file, '..', s)).startsWith('demo/'),
          `${file} imports ${s}`,
        ).toBe(true)
      else if (!s.startsWith('node:'))
        expect([...ENTRY_POINTS, ...RUNNER], `${file} imports ${s}`).toContain(s)
    }
  })

  it(
    "type-checks: the page with the DOM, the Worker with workerd's types",
    { timeout: 90_000 },
    async () => {
      const tsc = join(root, 'node_modules/typescript/bin/tsc')
      for (const project of ['demo/tsconfig.json', 'demo/tsconfig.worker.json']) {
        const run = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', project], {
          cwd: root,
        }).catch((e: { stdout: string }) => e)
        expect(run.stdout, project).toBe('')
      }
    },
  )
})

describe("the demo's Cron Trigger driver", () => {
  it(
    'calls scheduled() on each cron line with the tick time itself, in UTC, until stopped',
    { timeout: 10_000 },
    async () => {
      // @ts-expect-error: a JavaScript module of the demo, without types
      const { driveCrons } = await import('../demo/cron.js')
      const fired: [string, number, number][] = []
      // croner takes a seconds field too: a tick every second keeps the test short.
      const stop = driveCrons(['* * * * * *'], (cron: string, at: number) => {
        fired.push([cron, at, Date.now()])
      })
      for (const until = Date.now() + 5000; fired.length < 2 && Date.now() < until;)
        await new Promise((r) => setTimeout(r, 50))
      stop()
      const count = fired.length
      await new Promise((r) => setTimeout(r, 1200))
      expect(fired.length).toBe(count)
      expect(count).toBeGreaterThanOrEqual(2)
      for (const [cron, at, now] of fired) {
        expect(cron).toBe('* * * * * *')
        expect(at % 1000).toBe(0) // the tick's own time: what the alarm would give the same tick as its id
        expect(now - at).toBeLessThan(1000)
      }
      expect(fired[1]![1] - fired[0]![1]).toBe(1000)
    },
  )
})
