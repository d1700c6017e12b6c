// Case 1: live dispatch, exact topic, one counting listener, publishes not awaited one by one.
// `tidings-1kb`: the same with a 1 kB payload (an object of 16 strings of 52 characters), which
// publish copies, freezes and sizes. emittery's emit is async (listeners run a microtask later):
// n emits unawaited, then the last one awaited.
// usage: node bench/cases/live.js <tidings|tidings-1kb|mitt|eventemitter3|emittery> <events per round>
import { args, expectCalls, measure, tidingsRound } from '../harness.js'

const {
  subject,
  nums: [n = 200_000],
} = args()
const data = { total: 42 }
const kilobyte = Object.fromEntries(
  Array.from({ length: 16 }, (_, i) => [`field${String(i).padStart(2, '0')}`, 'x'.repeat(52)]),
)

/** A round of a plain emitter (mitt, eventemitter3): one listener, n emits, timed. */
const emitterRound = (make, name) => (n) => {
  const bus = make()
  let calls = 0
  bus.on('order.placed', () => {
    calls++
  })
  const t0 = performance.now()
  for (let i = 0; i < n; i++) bus.emit('order.placed', data)
  const ms = performance.now() - t0
  expectCalls(calls, n, name)
  return ms
}

const subjects = {
  // publish() builds the full envelope (id, seq, time, frozen payload copy) and goes through the log.
  async tidings() {
    const { createBus } = await import('tidings')
    return (n) =>
      tidingsRound(createBus, {
        n,
        topic: 'order.placed',
        data,
        attach: (bus, count) => {
          bus.on('order.placed', count)
        },
      })
  },
  async 'tidings-1kb'() {
    const { createBus } = await import('tidings')
    return (n) =>
      tidingsRound(createBus, {
        n,
        topic: 'order.placed',
        data: kilobyte,
        attach: (bus, count) => {
          bus.on('order.placed', count)
        },
      })
  },
  async emittery() {
    const { default: Emittery } = await import('emittery')
    return async (n) => {
      const emitter = new Emittery()
      let calls = 0
      emitter.on('order.placed', () => {
        calls++
      })
      const t0 = performance.now()
      let last
      for (let i = 0; i < n; i++) last = emitter.emit('order.placed', data)
      await last
      const ms = performance.now() - t0
      expectCalls(calls, n, 'emittery')
      return ms
    }
  },
  async mitt() {
    const { default: mitt } = await import('mitt')
    return emitterRound(mitt, 'mitt')
  },
  async eventemitter3() {
    const { default: EventEmitter } = await import('eventemitter3')
    return emitterRound(() => new EventEmitter(), 'eventemitter3')
  },
}

if (!subjects[subject]) throw new Error(`unknown subject ${subject}`)
await measure(await subjects[subject](), { n })
