// Case: one 16-segment publish against a pattern holding K `**` (`**.` × K + `x`, which never matches
// `a.a.….a`, the worst case for a backtracking matcher: before the linear matcher, K = 11 took ~0.3 s
// per publish and K = 15 minutes). Time per match should be flat in K.
// `tidings`: bus.publish with one such listener and one `**` listener that counts (so the round can
// check every publish was dispatched); `tidings-trie`: the topic trie's match alone.
// usage: node bench/cases/globstar.js <tidings|tidings-trie> <stars> <events per round>
import { args, expectCalls, measure, tidingsRound } from '../harness.js'

const {
  subject,
  nums: [stars = 1, n = 100_000],
} = args()
const topic = Array(16).fill('a').join('.')
const pattern = '**.'.repeat(stars) + 'x'
const never = () => {
  throw new Error(`${pattern} matched ${topic}`)
}

const subjects = {
  async tidings() {
    const { createBus } = await import('tidings')
    return (n) =>
      tidingsRound(createBus, {
        n,
        topic,
        data: { stars },
        attach: (bus, count) => {
          bus.on(pattern, never)
          bus.on('**', count)
        },
      })
  },
  async 'tidings-trie'() {
    const { createTrie } = await import('../../dist/src/topic/topic.js')
    return (n) => {
      const trie = createTrie()
      trie.add(pattern, never)
      let calls = 0
      trie.add('**', () => {
        calls++
      })
      const t0 = performance.now()
      for (let i = 0; i < n; i++) for (const fn of trie.match(topic)) fn()
      const ms = performance.now() - t0
      expectCalls(calls, n, 'tidings-trie')
      return ms
    }
  },
}

if (!subjects[subject]) throw new Error(`unknown subject ${subject}`)
await measure(await subjects[subject](), { n })
