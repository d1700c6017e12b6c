import ts from 'typescript'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
const files = (d) => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [] })
const out = []
for (const dir of process.argv.slice(2)) for (const f of files(dir)) {
  const text = readFileSync(f, 'utf8'); const sf = ts.createSourceFile(f, text, ts.ScriptTarget.Latest, true)
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (lines > 300) out.push(`FILE ${f} ${lines}`)
  const walk = (n) => { if (ts.isFunctionLike(n) && n.body) { const a = sf.getLineAndCharacterOfPosition(n.getStart()).line, b = sf.getLineAndCharacterOfPosition(n.end).line; if (b - a + 1 > 120) out.push(`FN ${f}:${a + 1} ${b - a + 1}`) } ts.forEachChild(n, walk) }
  walk(sf)
}
console.log(out.join('\n'))
