// The published package: what `npm pack` puts in the tarball, and that TypeScript finds the types
// under every module resolution a user may have (node10 reads top-level `types` and
// `typesVersions`; node16/bundler read `exports`). Building takes ~30 s here, so the package is
// packed from a copy whose dist entry points are stubs at the paths the build writes (each is
// checked to come from a source file the build compiles); `npm pack --dry-run --json` then
// reports the tarball's file list as it would for the real build.
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string
  types: string
  files: string[]
  license: string
  exports: Record<string, { types: string; default: string }>
  typesVersions: Record<string, Record<string, string[]>>
}
const temp = mkdtempSync(join(tmpdir(), 'tidings-pack-'))
const copy = join(temp, 'tidings')
let packed: string[]

/** Every dist file package.json points at: exports, main, types, typesVersions. */
const entryPoints = () => [
  ...new Set(
    [
      pkg.main,
      pkg.types,
      ...Object.values(pkg.exports).flatMap((e) => [e.types, e.default]),
      ...Object.values(pkg.typesVersions['*'] ?? {}).flat(),
    ].map((p) => p.replace(/^\.\//, '')),
  ),
]

/** The source file the build (tsc, rootDir '.', outDir 'dist') compiles to a dist path. */
const sourceOf = (distPath: string) =>
  distPath.replace(/^dist\//, '').replace(/\.d\.ts$|\.js$/, '.ts')

beforeAll(() => {
  mkdirSync(copy)
  for (const f of ['package.json', 'LICENSE', 'README.md']) cpSync(join(root, f), join(copy, f))
  for (const a of ['indexeddb', 'cloudflare', 'hono'])
    if (existsSync(join(root, 'adapters', a, 'README.md')))
      cpSync(join(root, 'adapters', a, 'README.md'), join(copy, 'adapters', a, 'README.md'))
  for (const p of entryPoints()) {
    mkdirSync(dirname(join(copy, p)), { recursive: true })
    writeFileSync(
      join(copy, p),
      p.endsWith('.d.ts') ? 'export declare const stub: true\n' : 'export const stub = true\n',
    )
  }
  const [report] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: copy,
      encoding: 'utf8',
    }),
  ) as [{ files: { path: string }[] }]
  packed = report.files.map((f) => f.path)
}, 60_000)
afterAll(() => rmSync(temp, { recursive: true, force: true }))

describe('the tarball', () => {
  it('holds the MIT license and the READMEs', () => {
    expect(pkg.license).toBe('MIT')
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/)
    expect(pkg.files).toContain('LICENSE')
    expect(packed).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'adapters/indexeddb/README.md',
      ]),
    )
  })
  it('holds every entry point package.json names, each built from a source file', () => {
    expect(entryPoints().length).toBeGreaterThanOrEqual(10)
    for (const p of entryPoints()) {
      expect(packed, p).toContain(p)
      expect(existsSync(join(root, sourceOf(p))), `${p} is built from ${sourceOf(p)}`).toBe(true)
    }
  })
  it('ships no sources, tests or demo', () => {
    expect(
      packed.filter(
        (p) =>
          /^(src|test|demo|bench|scripts)\//.test(p) || (/\.ts$/.test(p) && !p.endsWith('.d.ts')),
      ),
    ).toEqual([])
  })
})

describe('TypeScript finds the types of the installed package', () => {
  const resolve = (
    name: string,
    moduleResolution: ts.ModuleResolutionKind,
    module: ts.ModuleKind,
  ) => {
    const consumer = join(temp, 'app')
    if (!existsSync(consumer)) {
      mkdirSync(join(consumer, 'node_modules'), { recursive: true })
      symlinkSync(copy, join(consumer, 'node_modules', 'tidings'), 'dir')
      writeFileSync(join(consumer, 'package.json'), '{ "type": "module" }\n')
    }
    const r = ts.resolveModuleName(
      name,
      join(consumer, 'index.ts'),
      { moduleResolution, module },
      ts.sys,
    )
    return r.resolvedModule?.resolvedFileName.replace(/^.*\/tidings\//, '')
  }
  const cases: [string, string][] = [
    ['tidings', 'dist/src/index.d.ts'],
    ['tidings/testing', 'dist/src/testing.d.ts'],
    ['tidings/indexeddb', 'dist/adapters/indexeddb/index.d.ts'],
    ['tidings/cloudflare', 'dist/adapters/cloudflare/index.d.ts'],
    ['tidings/hono', 'dist/adapters/hono/index.d.ts'],
  ]
  it.each(cases)('%s under node10 (top-level types, typesVersions)', (name, file) => {
    expect(resolve(name, ts.ModuleResolutionKind.Node10, ts.ModuleKind.CommonJS)).toBe(file)
  })
  it.each(cases)('%s under NodeNext and Bundler (exports)', (name, file) => {
    expect(resolve(name, ts.ModuleResolutionKind.NodeNext, ts.ModuleKind.NodeNext)).toBe(file)
    expect(resolve(name, ts.ModuleResolutionKind.Bundler, ts.ModuleKind.ESNext)).toBe(file)
  })
})
