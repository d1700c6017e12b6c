// Bundle-size measurement, shared by `npm run bench` (bench/cases/bundle.js) and the test suite.
// No top-level side effects: importing this module only defines constants and functions.
import { build } from 'esbuild'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

/** The repository root (where node_modules lives, so peers resolve from here). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** 'tidings' resolved to its TypeScript source, so the source is measured rather than dist/. */
export const TIDINGS_ALIAS = { tidings: path.join(ROOT, 'src', 'index.ts') }

/**
 * The smallest real app: a bus, one live listener, one publish. Its entry chunk is what every user
 * downloads first; test/bundle.test.ts holds it to {@link ENTRY_BUDGET}, and `npm run bench` prints it.
 */
export const BUS_APP = [
  "import { createBus } from 'tidings'",
  'const bus = createBus()',
  "bus.on('order.*', (event) => console.log(event.type))",
  "await bus.publish('order.placed', { id: 1 })",
].join('\n')

/** The lazy chunk {@link BUS_APP}'s start-up loads: createBus's default memory store. */
export const BUS_APP_STARTUP = ['src/store/memory-store.ts']

/**
 * The budget for {@link BUS_APP}'s entry chunk, gzip (level 9), in bytes. Issue 15 set 6 kB, and the
 * layout met it (5,084 B); event versions (the version check and the lazy upcaster loader, about
 * 290 B) and the synchronous publish hook of instrumentation (about 150 B) took it to 6,258 B. On
 * 2026-12-03 the tracing wrapper became a strategy the instrumentation brings (`instrument()`,
 * `wrapPublish`): 6,105 B. Issue 16's one-event publish and cached topic matches added 184 B
 * (about 1.2× on live publishes); its segment log moved start-up, reads and pruning into a lazy
 * chunk (src/log/segments.ts): 6,084 B; a dedup fix (a delayed event's id kept while its event is
 * remembered) added 24 B and the handler context's own accessors 1 B: 6,109 B, 109 B over issue
 * 15's 6 kB. The budget (set at 6,084 B plus about 45 B) keeps about 20 B of headroom, so a change
 * that grows the entry has to say so here rather than slip under a loose line.
 */
export const ENTRY_BUDGET = 6130

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length

/**
 * Bundles `code` as a one-file ESM entry for the browser (minified, code splitting on) and measures
 * the entry chunk alone; any other chunk (a lazily imported module) is listed on its own.
 *
 * @param {string} code  the entry's source, e.g. "import { createBus } from 'tidings'; console.log(createBus)"
 * @param {{ alias?: Record<string, string>, resolveDir?: string, startup?: string[] }} [options]
 *   alias: esbuild aliases; defaults to {@link TIDINGS_ALIAS} (pass `{}` to resolve 'tidings' to dist/ instead).
 *   resolveDir: where bare imports resolve from; defaults to the repository root.
 *   startup: the source files (relative to resolveDir) whose lazy import the app's own start-up calls
 *   trigger, e.g. 'src/store/memory-store.ts' (createBus's memory store): their chunks count in `upFrontGzip`.
 * @returns {Promise<{ entryGzip: number, entryRaw: number, eagerGzip: number, upFrontGzip: number,
 *   chunks: { file: string, raw: number, gzip: number, eager: boolean }[], inputs: { path: string, bytes: number }[] }>}
 *   sizes in bytes (gzip at level 9). A chunk is `eager` when the entry imports it statically (directly or
 *   through another eager chunk), so it loads with the entry; `eagerGzip` is the entry plus those chunks,
 *   each gzipped on its own. `upFrontGzip` adds the `startup` chunks and what they import statically:
 *   everything the page downloads before it is running. `inputs` is what each source file contributes to the entry chunk (minified,
 *   before gzip), largest first.
 */
export async function measureEntry(
  code,
  { alias = TIDINGS_ALIAS, resolveDir = ROOT, startup = [] } = {},
) {
  const outdir = await mkdtemp(path.join(tmpdir(), 'tidings-bundle-'))
  try {
    const result = await build({
      stdin: { contents: code, resolveDir, sourcefile: 'entry.js', loader: 'js' },
      absWorkingDir: resolveDir,
      bundle: true,
      format: 'esm',
      splitting: true,
      outdir,
      minify: true,
      platform: 'browser',
      alias,
      metafile: true,
      write: false,
      logLevel: 'silent',
    })
    const meta = Object.fromEntries(
      Object.entries(result.metafile.outputs).map(([file, m]) => [
        path.resolve(resolveDir, file),
        m,
      ]),
    )
    let entry
    const chunks = []
    for (const f of result.outputFiles) {
      if (f.path.endsWith('.map')) continue
      const m = meta[f.path]
      const size = {
        file: path.relative(outdir, f.path),
        raw: f.contents.length,
        gzip: gzip(f.contents),
      }
      // The app's own entry (stdin, named entry.js): each lazily imported module is an entry point of its own too,
      // and esbuild's output order does not say which comes first.
      if (m?.entryPoint === 'entry.js' && !entry)
        entry = { ...size, path: f.path, inputs: m.inputs }
      else chunks.push({ ...size, path: f.path })
    }
    if (!entry) throw new Error('esbuild produced no entry chunk')
    // Chunks the entry pulls in with static imports load with it, whatever the entry's own size says.
    const staticImports = (file, into) => {
      for (const i of meta[file]?.imports ?? []) {
        const to = path.resolve(resolveDir, i.path)
        if (i.kind === 'import-statement' && !into.has(to)) {
          into.add(to)
          staticImports(to, into)
        }
      }
      return into
    }
    const eager = staticImports(entry.path, new Set())
    // The lazy chunks the app's start-up triggers, with their own static imports.
    const upFront = new Set(eager)
    for (const source of startup) {
      const chunk = Object.keys(meta).find((file) => meta[file].entryPoint === source)
      if (!chunk) throw new Error(`no lazy chunk for ${source}: is it still imported lazily?`)
      upFront.add(chunk)
      staticImports(chunk, upFront)
    }
    const inputs = Object.entries(entry.inputs)
      .map(([p, i]) => ({ path: p, bytes: i.bytesInOutput }))
      .filter((i) => i.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes)
    return {
      entryGzip: entry.gzip,
      entryRaw: entry.raw,
      eagerGzip: chunks.reduce((n, c) => n + (eager.has(c.path) ? c.gzip : 0), entry.gzip),
      upFrontGzip: chunks.reduce((n, c) => n + (upFront.has(c.path) ? c.gzip : 0), entry.gzip),
      chunks: chunks.map(({ path: p, ...c }) => ({ ...c, eager: eager.has(p) })),
      inputs,
    }
  } finally {
    await rm(outdir, { recursive: true, force: true })
  }
}
