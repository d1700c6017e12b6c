// Builds the demo with the project's bundler (esbuild): the page into demo/dist (served as
// static assets, see wrangler.toml) and the Worker into one ES module string for Miniflare.
import { build } from 'esbuild'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')

/**
 * The package's entry points (`tidings`, `tidings/indexeddb`, ...) mapped to their TypeScript
 * sources, read from package.json `exports`: the demo imports the package as a user would,
 * and runs without `npm run build` having made dist/.
 */
export const entryPoints = async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  return Object.fromEntries(
    Object.entries(pkg.exports).map(([sub, target]) => [
      sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`,
      join(root, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')),
    ]),
  )
}

/** Bundles demo/page/main.ts and copies index.html into `outdir`. */
export const buildPage = async (outdir = join(here, 'dist')) => {
  await mkdir(outdir, { recursive: true })
  await build({
    entryPoints: [join(here, 'page/main.ts')],
    outfile: join(outdir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: await entryPoints(),
    sourcemap: true,
    logLevel: 'warning',
  })
  await copyFile(join(here, 'page/index.html'), join(outdir, 'index.html'))
  return outdir
}

/** Bundles demo/worker.ts as wrangler would (cloudflare:* left to workerd); returns the module text. */
export const buildWorker = async () =>
  (
    await build({
      entryPoints: [join(here, 'worker.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      external: ['cloudflare:*', 'node:*'],
      target: 'es2022',
      alias: await entryPoints(),
      logLevel: 'warning',
    })
  ).outputFiles[0].text
