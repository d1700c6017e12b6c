// Case 3: bundle size of the smallest real app (a bus, one listener, one publish) and its peers'
// equivalents, entry chunk and up-front total (esbuild, ESM, splitting, minify, gzip -9).
// usage: node bench/cases/bundle.js   (sizes are deterministic: one run is enough)
import { BUS_APP, BUS_APP_STARTUP, measureEntry } from '../bundle.js'

const entries = {
  tidings: BUS_APP,
  mitt: [
    "import mitt from 'mitt'",
    'const emitter = mitt()',
    "emitter.on('order.placed', (data) => console.log(data))",
    "emitter.emit('order.placed', { id: 1 })",
  ].join('\n'),
  eventemitter3: [
    "import EventEmitter from 'eventemitter3'",
    'const emitter = new EventEmitter()',
    "emitter.on('order.placed', (data) => console.log(data))",
    "emitter.emit('order.placed', { id: 1 })",
  ].join('\n'),
  eventemitter2: [
    "import { EventEmitter2 } from 'eventemitter2'",
    'const emitter = new EventEmitter2({ wildcard: true })',
    "emitter.on('order.*', (data) => console.log(data))",
    "emitter.emit('order.placed', { id: 1 })",
  ].join('\n'),
}

const out = {}
for (const [name, code] of Object.entries(entries)) {
  out[name] = await measureEntry(code, name === 'tidings' ? { startup: BUS_APP_STARTUP } : {})
}
process.stdout.write(JSON.stringify(out) + '\n')
