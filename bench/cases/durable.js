// Case 4: durable delivery throughput on the memory store. One durable subscription (a no-op async
// handler, default retention) takes every event; publishes are not awaited one by one and the round
// ends when `bus.idle()` resolves, i.e. every event has been handled and its ack committed.
// Peer: emittery, `await emitter.emit()` per event with one async no-op listener (emittery's emit
// resolves once its listeners have, so it is awaited in sequence).
// usage: node bench/cases/durable.js <tidings|emittery> <events per round> [concurrency]
import { args, expectCalls, measure, tidingsRound } from '../harness.js'

const {
  subject,
  nums: [n = 100_000, concurrency = 1],
} = args()
const data = { total: 42 }

const subjects = {
  async tidings() {
    const { createBus } = await import('tidings')
    return (n) =>
      tidingsRound(createBus, {
        n,
        topic: 'order.placed',
        data,
        what: `tidings (concurrency ${concurrency})`,
        attach: (bus, count) =>
          bus.subscribe(
            'bench',
            'order.placed',
            async () => {
              count()
            },
            concurrency === 1 ? undefined : { concurrency },
          ),
      })
  },
  async emittery() {
    const { default: Emittery } = await import('emittery')
    return async (n) => {
      const emitter = new Emittery()
      let calls = 0
      emitter.on('order.placed', async () => {
        calls++
      })
      const t0 = performance.now()
      for (let i = 0; i < n; i++) await emitter.emit('order.placed', data)
      const ms = performance.now() - t0
      expectCalls(calls, n, 'emittery')
      return ms
    }
  },
}

if (!subjects[subject]) throw new Error(`unknown subject ${subject}`)
await measure(await subjects[subject](), { n })
