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

// The layout rules of issue 15: adapters reach the core through two doors, nothing imports in a
// circle, and the storage key layout is written in one file.
const CORE_DOORS = ['src/index.ts', 'src/internal.ts']
const KEYS_FILE = 'src/store/keys.ts'
// A string literal that starts like a storage key (`'e/…'`, `` `s/${name}` ``): one letter and a slash.
const KEY_LITERAL = /['"`][a-z]\//
// The same prefixes spelled as bare letters and joined to the slash elsewhere: a list of one-letter
// strings (`['a', 'r', 'l']`), a one-letter string joined to a slash (`'a' + '/'`), or a template
// that builds one subscription's state prefix from a variable (`` `${prefix}/${name}/` ``).
const KEY_LETTERS = [
  /\[\s*(['"`])[a-z]\1(\s*,\s*(['"`])[a-z]\3)+\s*,?\s*\]/,
  /(['"`])[a-z]\1\s*\+\s*['"`]\//,
  /`\$\{[^}`]+\}\/\$\{[^}`]+\}\/`/,
]

/** The file a relative specifier names (`./x.js` is written for `./x.ts`). */
const resolve = (file: string, specifier: string): string =>
  relative(root, join(root, file, '..', specifier)).replace(/\.js$/, '.ts')

/** Core modules an adapter file imports other than the two doors. */
const strayCoreImports = (file: string, specifiersOfFile: readonly string[]): string[] =>
  specifiersOfFile
    .filter((s) => s.startsWith('.'))
    .map((s) => resolve(file, s))
    .filter((target) => target.startsWith('src/') && !CORE_DOORS.includes(target))

/** One import circle of the graph, as the path that closes it (`a → b → a`), or undefined. */
const findCircle = (graph: ReadonlyMap<string, readonly string[]>): string[] | undefined => {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node]
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      const circle = visit(next)
      if (circle) return circle
    }
    path.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of graph.keys()) {
    const circle = visit(node)
    if (circle) return circle
  }
  return undefined
}

/** Every import circle, one per strongly connected tangle: found, reported, its first edge cut, again. */
const circlesOf = (graph: ReadonlyMap<string, readonly string[]>): string[][] => {
  const left = new Map([...graph].map(([node, targets]) => [node, [...targets]]))
  const found: string[][] = []
  for (let circle = findCircle(left); circle; circle = findCircle(left)) {
    found.push(circle)
    const [from, to] = circle as [string, string]
    left.set(
      from,
      left.get(from)!.filter((t) => t !== to),
    )
  }
  return found
}

/** Lines of code (comments removed) with a key-prefix literal. */
const keyLiterals = (code: string): string[] =>
  code
    .split('\n')
    .filter((line) => [KEY_LITERAL, ...KEY_LETTERS].some((pattern) => pattern.test(line)))

describe('layout', () => {
  const codeFiles = [...files('src'), ...files('adapters')]

  it.each(files('adapters'))(
    '%s imports the core only through src/index.ts or src/internal.ts',
    (file) => {
      expect(strayCoreImports(file, specifiers(file)), file).toEqual([])
    },
  )

  it('has no import circle among src and adapters, type imports included', () => {
    const graph = new Map(
      codeFiles.map((file) => [
        file,
        specifiers(file)
          .filter((s) => s.startsWith('.'))
          .map((s) => resolve(file, s))
          .filter((t) => codeFiles.includes(t)),
      ]),
    )
    for (const edge of KNOWN_CIRCLE_EDGES) {
      const [from, to] = edge.split(' → ') as [string, string]
      expect(graph.get(from), `${edge} is gone: drop it from KNOWN_CIRCLE_EDGES`).toContain(to)
      graph.set(
        from,
        graph.get(from)!.filter((target) => target !== to),
      )
    }
    expect(circlesOf(graph).map((circle) => circle.join(' → '))).toEqual([])
  })

  it.each(codeFiles.filter((f) => f !== KEYS_FILE))(
    '%s writes no storage key prefix (they live in src/store/keys.ts)',
    (file) => {
      expect(keyLiterals(uncommented(file)), file).toEqual([])
    },
  )

  it('catches what it is meant to catch', () => {
    expect(
      strayCoreImports('adapters/hono/app.ts', [
        '../../src/index.js',
        '../../src/internal.js',
        './_body.js',
        'hono',
      ]),
    ).toEqual([])
    expect(strayCoreImports('adapters/hono/app.ts', ['../../src/errors.js'])).toEqual([
      'src/errors.ts',
    ])
    const planted = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ])
    expect(circlesOf(planted).map((circle) => circle.join(' → '))).toEqual([
      'a.ts → b.ts → c.ts → a.ts',
    ])
    expect(
      circlesOf(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []],
        ]),
      ),
    ).toEqual([])
    // Type-only imports are edges like any other.
    expect(specifiersIn("import type { X } from './x.js'")).toEqual(['./x.js'])
    expect(
      keyLiterals("store.list({ prefix: 's/' })\nstore.get(`x/${name}/`)\nconst url = 'a/b'"),
    ).toHaveLength(3)
    expect(
      keyLiterals("store.get(keys.sub(name))\nconst id = 'schedule:x'\nconst other = 'other/1'"),
    ).toEqual([])
    // Bare letters joined to the slash elsewhere (replay.ts once did the first).
    expect(
      keyLiterals(
        [
          "...['a', 'r', 'l'].map((prefix) => ({ start: `${prefix}/${name}/` }))",
          'const prefixes = ["a", \'r\']',
          "store.list({ prefix: 'x' + '/' + name })",
          'const start = `${prefix}/${name}/`',
        ].join('\n'),
      ),
    ).toHaveLength(4)
    expect(
      keyLiterals(
        [
          "set('e', 'bare')",
          "new Set(['a', 1])",
          "const cursor = 'c' + positions.join('.')",
          'const delivery = `${subscription}/${seq}/${attempt}`',
          'fetch(`${url}/events`)',
          "expect(seen).toEqual(['ab', 'cd'])",
        ].join('\n'),
      ),
    ).toEqual([])
  })
})

// Type-only imports that close circles today; each goes when the types it imports move to
// src/types.ts (issue 15, the `shape` branch). Cut from the graph so that no other circle can hide
// behind them; the test fails when one is gone, so the list only shrinks.
const KNOWN_CIRCLE_EDGES: string[] = []
