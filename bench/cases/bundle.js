// Case 3: bundle size of a one-line import, entry chunk only (esbuild, ESM, splitting, minify, gzip -9).
// usage: node bench/cases/bundle.js   (sizes are deterministic: one run is enough)
import { measureEntry } from '../bundle.js'

const entries = {
  tidings: "import { createBus } from 'tidings'; console.log(createBus)",
  mitt: "import mitt from 'mitt'; console.log(mitt)",
  eventemitter3: "import EventEmitter from 'eventemitter3'; console.log(EventEmitter)",
  eventemitter2: "import { EventEmitter2 } from 'eventemitter2'; console.log(EventEmitter2)",
}

const out = {}
for (const [name, code] of Object.entries(entries)) out[name] = await measureEntry(code)
process.stdout.write(JSON.stringify(out) + '\n')
