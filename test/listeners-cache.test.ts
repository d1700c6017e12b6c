import { describe, expect, it } from 'vitest'
import { createListeners } from '../src/listeners.js'
import type { BusEvent } from '../src/event.js'

// Live listeners cache each topic's matches (issue 16): the cache must follow every add and removal.
const event = (type: string) =>
  ({ type, seq: 1, id: 'x', data: null, time: 0 }) as unknown as BusEvent

describe('cached topic matches', () => {
  it('a listener added or removed after a topic was dispatched is seen by the next dispatch, in order of adding', () => {
    const listeners = createListeners(
      (error) => {
        throw error
      },
      (stored) => stored,
    )
    const calls: string[] = []
    const offA = listeners.on(
      'order.*',
      () => {
        calls.push('a')
      },
      undefined,
    )
    listeners.dispatch([event('order.placed')])
    const offB = listeners.on(
      'order.placed',
      () => {
        calls.push('b')
      },
      undefined,
    )
    listeners.add('**', () => {
      calls.push('c')
    })
    listeners.dispatch([event('order.placed')])
    offA()
    listeners.dispatch([event('order.placed')])
    offB()
    listeners.dispatch([event('order.placed')])
    expect(calls).toEqual(['a', 'a', 'b', 'c', 'b', 'c', 'c'])
  })

  it('a listener removing itself mid-dispatch does not skip the others for that event', () => {
    const listeners = createListeners(
      (error) => {
        throw error
      },
      (stored) => stored,
    )
    const calls: string[] = []
    const off = listeners.on(
      't',
      () => {
        calls.push('first')
        off()
      },
      undefined,
    )
    listeners.on(
      't',
      () => {
        calls.push('second')
      },
      undefined,
    )
    listeners.dispatch([event('t'), event('t')])
    expect(calls).toEqual(['first', 'second', 'second'])
  })
})
