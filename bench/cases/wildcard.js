// Case 2: wildcard dispatch. L pattern listeners: for i < L/2, `tenant{i}.order.*` and `tenant{i}.**`;
// every publish of `tenant{k}.order.created` (k = 42, or the last tenant when there are fewer) hits two.
// `tidings-trie` is a diagnostic: tidings' topic trie alone (match + call), without publish's envelope
// and log, to tell the matcher's cost from the rest.
// usage: node bench/cases/wildcard.js <tidings|tidings-trie|eventemitter2> <listeners> <events per round>
import { args, expectCalls, measure, tidingsRound } from '../harness.js'

const {
  subject,
  nums: [listeners = 10, n = 100_000],
} = args()
const tenants = listeners / 2
const topic = `tenant${Math.min(42, tenants - 1)}.order.created`
const data = { total: 42 }
const patterns = []
for (let i = 0; i < tenants; i++) patterns.push(`tenant${i}.order.*`, `tenant${i}.**`)

const subjects = {
  async tidings() {
    const { createBus } = await import('tidings')
    return (n) =>
      tidingsRound(createBus, {
        n,
        topic,
        data,
        perEvent: 2,
        attach: (bus, count) => {
          for (const p of patterns) bus.on(p, count)
        },
      })
  },
  async 'tidings-trie'() {
    const { createTrie } = await import('../../dist/src/topic/topic.js')
    return (n) => {
      const trie = createTrie()
      let calls = 0
      const count = () => {
        calls++
      }
      for (const p of patterns) trie.add(p, count)
      const t0 = performance.now()
      for (let i = 0; i < n; i++) for (const fn of trie.match(topic)) fn(data)
      const ms = performance.now() - t0
      expectCalls(calls, 2 * n, 'tidings-trie')
      return ms
    }
  },
  async eventemitter2() {
    const m = await import('eventemitter2')
    const EventEmitter2 = m.EventEmitter2 ?? m.default
    return (n) => {
      const bus = new EventEmitter2({ wildcard: true, delimiter: '.' })
      let calls = 0
      const count = () => {
        calls++
      }
      for (const p of patterns) bus.on(p, count)
      const t0 = performance.now()
      for (let i = 0; i < n; i++) bus.emit(topic, data)
      const ms = performance.now() - t0
      expectCalls(calls, 2 * n, 'eventemitter2')
      return ms
    }
  },
}

if (!subjects[subject]) throw new Error(`unknown subject ${subject}`)
await measure(await subjects[subject](), { n })
