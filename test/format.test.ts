// The format check: every tracked file prettier handles is formatted as .prettierrc.json says
// (100 columns, no semicolons, single quotes). `npm run format` rewrites the tree; this test names
// the files that differ, so a failure says which file to format, not just that one is off.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { afterAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')

/**
 * The tracked files of the git work tree at `directory` that prettier handles (not ignored by
 * .prettierignore, a parser known for the file name) and would change.
 */
async function unformattedFiles(directory: string): Promise<string[]> {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: directory, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '')
  const ignorePath = join(directory, '.prettierignore')
  const unformatted: string[] = []
  for (const file of tracked) {
    const filepath = join(directory, file)
    const info = await prettier.getFileInfo(filepath, { ignorePath })
    if (info.ignored || info.inferredParser === null) continue
    const config = await prettier.resolveConfig(filepath, { editorconfig: true })
    const source = readFileSync(filepath, 'utf8')
    if (!(await prettier.check(source, { ...config, filepath }))) unformatted.push(file)
  }
  return unformatted
}

const temporary = mkdtempSync(join(tmpdir(), 'tidings-format-'))
afterAll(() => rmSync(temporary, { recursive: true, force: true }))

describe('formatting', () => {
  it('the check names an unformatted file and passes a formatted one (it is not vacuous)', async () => {
    execFileSync('git', ['init', '-q'], { cwd: temporary })
    for (const file of ['.prettierrc.json', '.prettierignore']) {
      copyFileSync(join(root, file), join(temporary, file))
    }
    const code =
      'export const   greeting = "hello";\nexport function shout(text: string) { return text.toUpperCase() }\n'
    writeFileSync(join(temporary, 'messy.ts'), code)
    const filepath = join(temporary, 'tidy.ts')
    const config = await prettier.resolveConfig(filepath)
    writeFileSync(filepath, await prettier.format(code, { ...config, filepath }))
    // An ignored file is not checked, however it looks.
    writeFileSync(join(temporary, 'package-lock.json'), '{"lockfileVersion":   3}')
    execFileSync('git', ['add', '-A'], { cwd: temporary })
    expect(readFileSync(filepath, 'utf8')).toContain("export const greeting = 'hello'\n")
    expect(await unformattedFiles(temporary)).toEqual(['messy.ts'])
  })

  it('every tracked file prettier handles is formatted (npm run format fixes it)', async () => {
    const unformatted = await unformattedFiles(root)
    expect(unformatted, `not formatted (run npm run format):\n${unformatted.join('\n')}`).toEqual(
      [],
    )
  }, 300_000)
})
