// What a source file imports, read as text (comments removed): used by the dependency-direction
// checks of the core, the adapters (test/imports.test.ts) and the demo (test/demo-code.test.ts).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The file's text without comments. */
export const uncommented = (root: string, file: string): string =>
  readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')

// `import … from 'x'`, `export … from 'x'`, `import('x')` and a side-effect `import 'x'`.
const IMPORTS =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s*['"]([^'"]+)['"]/g

/** Every module specifier the file imports or re-exports. */
export const specifiers = (root: string, file: string): string[] =>
  specifiersIn(uncommented(root, file))

/** The same, for source text. */
export const specifiersIn = (src: string): string[] =>
  [...src.matchAll(IMPORTS)].map((m) => (m[1] ?? m[2] ?? m[3])!)
