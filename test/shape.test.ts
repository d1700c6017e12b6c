// Layout rules of issue 15: small files, one concept each, and short functions, so a newcomer can
// read any one of them whole. Measured with the TypeScript compiler: every function-like node with a
// body (declarations, arrows, methods, accessors), from its first line to its last.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const MAX_FILE_LINES = 300
const MAX_FUNCTION_LINES = 120
const root = join(import.meta.dirname, '..')

interface Oversized {
  file: string
  what: string
  lines: number
}

/** The file and functions of one source text over the limits. */
const oversized = (file: string, text: string): Oversized[] => {
  const found: Oversized[] = []
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const fileLines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (fileLines > MAX_FILE_LINES) found.push({ file, what: 'file', lines: fileLines })
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const lines = lineOf(node.end) - lineOf(node.getStart(source)) + 1
      if (lines > MAX_FUNCTION_LINES)
        found.push({ file, what: `function at line ${lineOf(node.getStart(source)) + 1}`, lines })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

const files = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    return statSync(join(root, path)).isDirectory()
      ? files(path)
      : path.endsWith('.ts')
        ? [path]
        : []
  })

describe('shape', () => {
  const sources = [...files('src'), ...files('adapters')].map((path) =>
    relative(root, join(root, path)),
  )
  it('finds the sources', () => expect(sources.length).toBeGreaterThan(40))

  it(`no file over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES}`, () => {
    const over = sources.flatMap((file) => oversized(file, readFileSync(join(root, file), 'utf8')))
    expect(over).toEqual([])
    // Parsing every source takes seconds on a loaded machine: a time limit here would test the machine.
  }, 60_000)

  it('catches what it is meant to catch', () => {
    const body = (lines: number) =>
      Array.from({ length: lines - 2 }, (_, index) => `  const v${index} = ${index}`).join('\n')
    const arrow = `export const long = () => {\n${body(MAX_FUNCTION_LINES + 1)}\n}\n`
    const method = `const o = {\n  run() {\n${body(MAX_FUNCTION_LINES + 1)}\n  },\n}\n`
    const fits = `function short() {\n${body(MAX_FUNCTION_LINES)}\n}\n`
    expect(oversized('planted.ts', arrow)).toEqual([
      { file: 'planted.ts', what: 'function at line 1', lines: MAX_FUNCTION_LINES + 1 },
    ])
    expect(oversized('planted.ts', method).map((o) => o.what)).toEqual(['function at line 2'])
    expect(oversized('planted.ts', fits)).toEqual([])
    const big = 'export const x = 1\n'.repeat(MAX_FILE_LINES + 1)
    expect(oversized('planted.ts', big)).toEqual([
      { file: 'planted.ts', what: 'file', lines: MAX_FILE_LINES + 1 },
    ])
    expect(oversized('planted.ts', 'export const x = 1\n'.repeat(MAX_FILE_LINES))).toEqual([])
  })
})
