import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  specifiers as specifiersOf,
  specifiersIn,
  uncommented as uncommentedIn,
} from './_specifiers.js'

const root = join(import.meta.dirname, '..')
const files = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((f) => {
    const p = join(dir, f)
    return statSync(join(root, p)).isDirectory() ? files(p) : /\.ts$/.test(f) ? [p] : []
  })
const uncommented = (file: string) => uncommentedIn(root, file)
const specifiers = (file: string): string[] => specifiersOf(root, file)
// Globals that tie code to one runtime; the core uses Web-standard APIs only.
const RUNTIME_GLOBALS =
  /\b(window|document|navigator|localStorage|indexedDB|process|Buffer|require|__dirname|Deno|Bun)\b\s*[.([]/

describe('dependency direction', () => {
  const core = files('src')
  it('finds the core files', () => expect(core.length).toBeGreaterThan(8))

  it.each(core)('%s imports only the core, nanoid and croner', (file) => {
    for (const s of specifiers(file)) {
      if (s.startsWith('.')) {
        expect(
          relative(root, join(root, file, '..', s)).startsWith('src/'),
          `${file} imports ${s}`,
        ).toBe(true)
      } else {
        expect(['nanoid', 'croner'], `${file} imports ${s}`).toContain(s)
      }
    }
  })

  it.each(core)('%s uses no runtime-specific global', (file) => {
    const code = uncommented(file)
    expect(code.match(RUNTIME_GLOBALS)?.[0], file).toBeUndefined()
  })

  const adapters = readdirSync(join(root, 'adapters')).filter((a) =>
    statSync(join(root, 'adapters', a)).isDirectory(),
  )
  it.each(adapters.flatMap((a) => files(join('adapters', a)).map((f) => [a, f] as const)))(
    '%s: %s never imports another adapter',
    (name, file) => {
      for (const s of specifiers(file)) {
        expect(
          s.startsWith('.') &&
            /adapters\//.test(relative(root, join(root, file, '..', s))) &&
            !relative(root, join(root, file, '..', s)).startsWith(`adapters/${name}`),
          `${file} imports ${s}`,
        ).toBe(false)
      }
    },
  )

  it('catches what it is meant to catch', () => {
    expect(specifiers('test/imports.test.ts')).toContain('node:fs')
    expect('x = window.location'.match(RUNTIME_GLOBALS)).not.toBeNull()
    expect(
      specifiersIn(
        "const c = await import('croner')\nimport '../adapters/hono/app.js'\nexport { x } from './y.js'",
      ),
    ).toEqual(['croner', '../adapters/hono/app.js', './y.js'])
  })
})
