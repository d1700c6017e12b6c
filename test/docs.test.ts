// The docs test: README code works as pasted. Every ```ts block of README.md and
// adapters/*/README.md is type-checked as a module of its own (strict, exactOptionalPropertyTypes,
// noUncheckedIndexedAccess) under NodeNext and under Bundler resolution, with 'tidings' and
// 'tidings/*' mapped to the sources; names a snippet assumes come from test/docs/prelude*.d.ts.
// Blocks that import tidings/cloudflare (or live in its README) get the Workers types, the others
// the DOM and Node ones: one Program per resolution and runtime. The Quick start is bundled with
// esbuild, run with node, and its output compared with the block README says it prints.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'
import {
  blocksOf,
  checkBlocks,
  formatProblem,
  isWorkers,
  root,
  SOURCES,
  tsBlocks,
  type Block,
  type Environment,
  type Resolution,
} from './docs/_snippets.js'

const blocks = tsBlocks()
const temp = mkdtempSync(join(tmpdir(), 'tidings-docs-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

describe('every ts block of the READMEs type-checks', () => {
  it('finds the blocks (README.md and each adapter README)', () => {
    const files = new Set(blocks.map((b) => b.file))
    expect(files).toContain('README.md')
    expect(files).toContain('adapters/indexeddb/README.md')
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThanOrEqual(8)
  })

  for (const resolution of ['NodeNext', 'Bundler'] as Resolution[]) {
    for (const env of ['web', 'workers'] as Environment[]) {
      it(`under ${resolution} resolution, ${env} types`, () => {
        const mine = blocks.filter((b) => isWorkers(b) === (env === 'workers'))
        const problems = checkBlocks(mine, resolution, env).map((p) =>
          formatProblem(p, resolution, env),
        )
        // The list names file:line:column and the block, so a snippet can be fixed where it is.
        expect(problems.join('\n')).toBe('')
      }, 120_000)
    }
  }

  it('reports a broken snippet at its README line (the check is not vacuous)', () => {
    const text = [
      '# x',
      '',
      '```ts',
      "import { createBus } from 'tidings'",
      'const bus = createBus<Events>()',
      "await bus.publish('order.paid', { id: 1 })",
      '```',
      '',
    ].join('\n')
    const [block] = blocksOf('BROKEN.md', text) as [Block]
    const problems = checkBlocks([block], 'Bundler', 'web')
    expect(problems.map((p) => [p.file, p.block, p.line, p.code])).toEqual([
      ['BROKEN.md', 1, 6, 2322],
    ])
  }, 120_000)
})

/** The Quick start's code and the output README says it prints (the ```text block after it). */
const quickStart = () => {
  const text = readFileSync(join(root, 'README.md'), 'utf8')
  const section = text.slice(text.indexOf('\n## Quick start\n'))
  const own = blocksOf('README.md', section.slice(0, section.indexOf('\n## ', 1)))
  const code = own.find((b) => b.lang === 'ts')
  const printed = own.find((b) => b.lang === 'text')
  if (!code || !printed)
    throw new Error(
      'README.md "Quick start" needs a ```ts block and the ```text block of what it prints',
    )
  return { code: code.code, printed: printed.code }
}

describe('the Quick start runs as pasted', () => {
  it('prints what README says it prints', async () => {
    const { code, printed } = quickStart()
    const out = join(temp, 'quick-start.mjs')
    await build({
      stdin: {
        contents: code,
        loader: 'ts',
        resolveDir: root,
        sourcefile: 'README.md#quick-start.ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: out,
      logLevel: 'silent',
      alias: Object.fromEntries(Object.entries(SOURCES).map(([k, v]) => [k, join(root, v)])),
    })
    const stdout = execFileSync(process.execPath, [out], { encoding: 'utf8', timeout: 60_000 })
    expect(stdout.trimEnd()).toBe(printed.trimEnd())
  }, 120_000)
})
