// A short tour of the core on the embedded memory store: run with `npm run demo`.
import { createBus } from 'tidings'

const bus = createBus({ source: 'demo-shop' })
const show = (label, e) => console.log(`  ${label.padEnd(18)} #${e.seq} ${e.type.padEnd(16)} ${JSON.stringify(e.data)}${e.causationId ? `  (caused by ${e.causationId})` : ''}`)

console.log('tidings: a typed event bus. This tour runs on the in-memory store.\n')

// Wildcards: `*` is one segment, `**` is any number of them.
bus.on('order.*', (e) => show('order.*', e))
bus.on('**', (e) => show('**', e))
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
await bus.close()
