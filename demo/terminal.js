// A short tour of the core on the embedded memory store: run with `npm run demo`.
import { createBus } from 'tidings'

// onError hears listener failures and events that end in dead letters.
const bus = createBus({ source: 'demo-shop', onError: (error, { subscription }) => subscription && console.log(`  onError: "${subscription}" dead-lettered an event (${error.message})`) })
const show = (label, e) => console.log(`  ${label.padEnd(18)} #${e.seq} ${e.type.padEnd(16)} ${JSON.stringify(e.data)}${e.causationId ? `  (caused by ${e.causationId})` : ''}`)

console.log('tidings: a typed event bus. This tour runs on the in-memory store.\n')

// Wildcards: `*` is one segment, `**` is any number of them.
bus.on('order.*', (e) => show('order.*', e))
const offAll = bus.on('**', (e) => show('**', e))
// A filter: only big orders (durable subscriptions also take declarative EventBridge-style filters).
bus.on('order.placed', (e) => show('big orders only', e), { filter: (e) => e.data.total >= 100 })

// A chained event: the reaction carries the correlation id and names its cause.
bus.on('order.placed', (e) => {
  void bus.publish('invoice.created', { order: e.data.id, amount: e.data.total }, {
    correlationId: e.correlationId ?? e.id, causationId: e.id, key: e.key,
  })
})

console.log('publish order.placed (total 40), order.placed (total 250), user.signed-up:')
await bus.publish('order.placed', { id: 'o-1', total: 40 }, { key: 'o-1' })
await bus.publish('order.placed', { id: 'o-2', total: 250 }, { key: 'o-2' })
await bus.publish('user.signed-up', { email: 'ada@example.com' })
await bus.idle()

console.log('\npublish the same id twice: the second is a no-op')
const first = await bus.publish('payment.received', { order: 'o-2' }, { id: 'stripe-evt-1' })
const again = await bus.publish('payment.received', { order: 'o-2' }, { id: 'stripe-evt-1' })
console.log(`  first  -> ${JSON.stringify(first)}\n  again  -> ${JSON.stringify(again)}`)

console.log('\nbad input is refused before anything is written:')
for (const [type, data] of [['order..placed', {}], ['order.placed', { callback: () => {} }]]) {
  try { await bus.publish(type, data) } catch (e) { console.log(`  ${e.code}: ${e.message}`) }
}

const { events } = await bus.read({ pattern: 'invoice.*' })
console.log('\nthe stored envelope of a chained event:')
console.log(JSON.stringify(events[0], null, 2).replace(/^/gm, '  '))

// Durable subscriptions: at-least-once, with retries, dead letters and ordering-key lanes.
offAll()
const quick = { attempts: 3, backoff: { initial: 50, factor: 2, jitter: false } }
const at = () => `${String(Date.now() - t0).padStart(4)} ms`
let t0 = Date.now()

console.log('\na flaky mailer: it fails every try for order o-3, so after 3 tries that event is dead-lettered')
let mailerUp = false
await bus.subscribe('mailer', 'order.placed', async (e, ctx) => {
  if (e.data.id === 'o-3' && !mailerUp) {
    console.log(`  ${at()}  mailer: try ${ctx.attempt} for ${e.data.id} fails`)
    throw new Error('SMTP server said 451')
  }
  console.log(`  ${at()}  mailer: sent confirmation for ${e.data.id} (try ${ctx.attempt})`)
}, { retry: quick, from: 'latest' })
t0 = Date.now()
await bus.publish('order.placed', { id: 'o-3', total: 10 }, { key: 'o-3' })
await waitUntil(async () => (await bus.deadLetters.list()).length === 1)
const [dead] = await bus.deadLetters.list()
console.log(`  dead letter ${dead.id}: ${dead.error.name}: ${dead.error.message} after ${dead.attempts} tries`)
mailerUp = true
console.log('  the mail server is back: redrive it')
await bus.deadLetters.redrive([dead.id])
await bus.idle()

console.log('\nordering keys: a failing event holds back only its own key')
t0 = Date.now()
let warehouseDown = true
await bus.subscribe('warehouse', 'stock.*', async (e) => {
  if (e.key === 'sku-A' && warehouseDown) {
    warehouseDown = false
    console.log(`  ${at()}  warehouse: ${e.data} for sku-A fails once; sku-A waits for its retry`)
    throw new Error('lock timeout')
  }
  console.log(`  ${at()}  warehouse: ${e.data} for ${e.key}`)
}, { retry: quick, concurrency: 2 })
await bus.publishMany([
  { type: 'stock.reserved', data: 'reserve 1', key: 'sku-A' },
  { type: 'stock.reserved', data: 'reserve 2', key: 'sku-A' },
  { type: 'stock.reserved', data: 'reserve 1', key: 'sku-B' },
  { type: 'stock.reserved', data: 'reserve 2', key: 'sku-B' },
])
await waitUntil(async () => (await bus.stats()).every((s) => s.lag === 0 && s.retrying === 0 && s.inFlight === 0))
console.log('\nschedules: an every-second heartbeat for a few seconds, and a cron line in a named time zone')
t0 = Date.now()
const beats = bus.on('heartbeat', (e) => console.log(`  ${at()}  heartbeat ${e.id}`))
await bus.schedule('heartbeat', { every: 1000, type: 'heartbeat', data: {} })
await bus.schedule('nightly-report', { cron: '30 2 * * *', timezone: 'Europe/Paris', type: 'report.nightly', data: {} })
for (const s of await bus.schedules()) {
  const when = s.spec.cron ? `cron "${s.spec.cron}" in ${s.spec.timezone}` : `every ${s.spec.every} ms`
  console.log(`  ${s.name.padEnd(15)} ${when}; next at ${new Date(s.nextAt).toISOString()}`)
}
await new Promise((r) => setTimeout(r, 3200))
beats()
await bus.unschedule('heartbeat')
const run = await bus.runSchedule('nightly-report')
console.log(`  run now (the external-scheduler hook): ${run.id}`)

console.log('\nper subscription:')
for (const s of await bus.stats()) console.log(`  ${s.name.padEnd(10)} lag ${s.lag}, in flight ${s.inFlight}, retrying ${s.retrying}, dead letters ${s.deadLetters}`)
await bus.close()

/** Polls a condition (the demo runs on the real clock, where retries take real milliseconds). */
async function waitUntil(check) {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10))
}
