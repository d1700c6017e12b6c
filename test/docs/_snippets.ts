// The code blocks of the READMEs, and a TypeScript Program over them: what test/docs.test.ts checks.
// Each ```ts block becomes a module of its own whose lines are the README's lines, so a diagnostic
// names the README line to fix. Free names a snippet assumes come from test/docs/prelude*.d.ts.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'

export const root = join(import.meta.dirname, '../..')

/** One fenced block of a markdown file. */
export interface Block {
  /** The markdown file, relative to the repository root. */
  file: string
  /** 1-based among the file's blocks of the same language. */
  index: number
  lang: string
  /** The 1-based README line of the block's first code line. */
  line: number
  code: string
}

/** The READMEs whose ```ts blocks are checked: the root one and each adapter's. */
export const readmes = (): string[] => [
  'README.md',
  ...readdirSync(join(root, 'adapters'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `adapters/${d.name}/README.md`)
    .filter((f) => {
      try {
        readFileSync(join(root, f))
        return true
      } catch {
        return false
      }
    }),
]

/** Every fenced block of a markdown text, in order. */
export const blocksOf = (file: string, text: string): Block[] => {
  const out: Block[] = []
  const counts = new Map<string, number>()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!)
    if (!open) continue
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l))
    if (end < 0) break
    const lang = open[1] ?? ''
    const index = (counts.get(lang) ?? 0) + 1
    counts.set(lang, index)
    out.push({ file, index, lang, line: i + 2, code: lines.slice(i + 1, end).join('\n') })
    i = end
  }
  return out
}

/** The ```ts blocks of every checked README. */
export const tsBlocks = (): Block[] =>
  readmes()
    .flatMap((f) => blocksOf(f, readFileSync(join(root, f), 'utf8')))
    .filter((b) => b.lang === 'ts')

/** A block for the Workers environment: it imports tidings/cloudflare, or lives in that README. */
export const isWorkers = (b: Block): boolean =>
  b.file.startsWith('adapters/cloudflare/') || /from ['"]tidings\/cloudflare['"]/.test(b.code)

/**
 * Where a snippet's module lives: a made-up file next to the prelude, so that package.json's
 * `"type": "module"` makes it ESM (top-level await) under NodeNext.
 */
export const virtualPath = (b: Block): string =>
  join(root, 'test/docs', `__${b.file.replace(/[/.]/g, '_')}_block${b.index}.ts`)

/**
 * The module text: the README's lines from line 1 (blank above the block, so positions are the
 * README's), then `export {}` so that a block without imports is still a module of its own.
 */
export const moduleText = (b: Block): string => '\n'.repeat(b.line - 1) + b.code + '\nexport {}\n'

/** The package's entry points, as the `exports` of package.json name them, mapped to the sources. */
export const SOURCES: Record<string, string> = {
  tidings: 'src/index.ts',
  'tidings/testing': 'src/testing.ts',
  'tidings/indexeddb': 'adapters/indexeddb/index.ts',
  'tidings/cloudflare': 'adapters/cloudflare/index.ts',
  'tidings/hono': 'adapters/hono/index.ts',
}

export type Resolution = 'NodeNext' | 'Bundler'
export type Environment = 'web' | 'workers'

/** The strict options a user is told to use, for one module resolution and one runtime's types. */
export const compilerOptions = (resolution: Resolution, env: Environment): ts.CompilerOptions => ({
  target: ts.ScriptTarget.ES2022,
  ...(resolution === 'NodeNext'
    ? { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }
    : { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }),
  lib:
    env === 'web'
      ? ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts']
      : ['lib.es2022.d.ts'],
  types: env === 'web' ? ['node'] : ['@cloudflare/workers-types'],
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
  noEmit: true,
  paths: Object.fromEntries(Object.entries(SOURCES).map(([k, v]) => [k, [join(root, v)]])),
})

const parsed = new Map<string, ts.SourceFile>()

/** One diagnostic in a README: where it is and what it says. */
export interface Problem {
  file: string
  block: number
  line: number
  column: number
  code: number
  message: string
}

/**
 * Type-checks the blocks in one Program (one per resolution and runtime) and returns the
 * diagnostics that fall in the snippets, each placed at its README line.
 */
export const checkBlocks = (
  blocks: Block[],
  resolution: Resolution,
  env: Environment,
): Problem[] => {
  const options = compilerOptions(resolution, env)
  const byPath = new Map(blocks.map((b) => [virtualPath(b), b]))
  const host = ts.createCompilerHost(options, true)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = (f) => byPath.has(f) || fileExists(f)
  host.readFile = (f) => {
    const b = byPath.get(f)
    return b ? moduleText(b) : readFile(f)
  }
  host.getSourceFile = (f, language, ...rest) => {
    const b = byPath.get(f)
    if (b) return ts.createSourceFile(f, moduleText(b), language, true)
    // Parsed once for every Program of the run (lib.dom.d.ts alone is most of the parse time).
    const key = `${f}|${typeof language === 'object' ? `${language.languageVersion}|${language.impliedNodeFormat}` : language}`
    let sf = parsed.get(key)
    if (!sf) {
      sf = getSourceFile(f, language, ...rest)
      if (sf) parsed.set(key, sf)
    }
    return sf
  }
  const preludes = [
    join(root, 'test/docs/prelude.d.ts'),
    ...(env === 'workers'
      ? [join(root, 'test/docs/prelude.workers.d.ts')]
      : [join(root, 'test/docs/prelude.web.d.ts')]),
  ]
  const program = ts.createProgram({ rootNames: [...preludes, ...byPath.keys()], options, host })
  const problems: Problem[] = []
  const global = program.getOptionsDiagnostics().concat(program.getGlobalDiagnostics())
  for (const d of global)
    problems.push({
      file: '(options)',
      block: 0,
      line: 0,
      column: 0,
      code: d.code,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    })
  for (const [path, b] of byPath) {
    const sf = program.getSourceFile(path)!
    for (const d of [
      ...program.getSyntacticDiagnostics(sf),
      ...program.getSemanticDiagnostics(sf),
    ]) {
      const { line, character } = sf.getLineAndCharacterOfPosition(d.start ?? 0)
      problems.push({
        file: b.file,
        block: b.index,
        line: line + 1,
        column: character + 1,
        code: d.code,
        message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      })
    }
  }
  // The preludes themselves must compile, or every snippet would be checked against nothing.
  for (const p of preludes) {
    const sf = program.getSourceFile(p)!
    for (const d of program.getSemanticDiagnostics(sf)) {
      const { line, character } = sf.getLineAndCharacterOfPosition(d.start ?? 0)
      problems.push({
        file: p.slice(root.length + 1),
        block: 0,
        line: line + 1,
        column: character + 1,
        code: d.code,
        message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      })
    }
  }
  return problems
}

/** `README.md:52:7 (ts block 1, NodeNext/web) TS2322: …`: where the integrator goes to fix it. */
export const formatProblem = (p: Problem, resolution: Resolution, env: Environment): string =>
  `${p.file}:${p.line}:${p.column} (ts block ${p.block}, ${resolution}/${env}) TS${p.code}: ${p.message}`
