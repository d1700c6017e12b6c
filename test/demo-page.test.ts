// The dashboard's pure parts, in Node: the chart's label and the live panel's history.
import { describe, expect, it } from 'vitest'
import type { BusEvent } from '../src/index.js'
import { rateLabel } from '../demo/page/chart.js'
import { latest } from '../demo/page/latest.js'

describe('the chart label', () => {
  it("reads 0 events/s with no events (not the bars' minimum scale of 1)", () => {
    expect(rateLabel(Array(60).fill(0))).toBe('0 events/s')
  })
  it('is the average of the last complete seconds, with the peak as the scale', () => {
    const buckets = [...Array(50).fill(0), ...Array(10).fill(2)]
    // 9 complete seconds of 2 and one of 0 in the window; the last (in progress) is left out.
    expect(rateLabel(buckets)).toBe('1.8 events/s · peak 2/s in the last 60 s')
    expect(rateLabel([...Array(49).fill(0), ...Array(11).fill(30)])).toBe(
      '30 events/s · peak 30/s in the last 60 s',
    )
  })
  it('does not count the second in progress as a rate, but shows it in the peak', () => {
    expect(rateLabel([...Array(59).fill(0), 3])).toBe('0 events/s · peak 3/s in the last 60 s')
  })
})

describe("the live panel's history", () => {
  const ev = (seq: number, time: number): BusEvent => ({
    id: `e${seq}@${time}`,
    type: 'a.b',
    source: 's',
    time,
    data: null,
    seq,
  })
  it('keeps the latest n by time across pages that come shard by shard, oldest first', () => {
    const shard0 = [ev(1, 10), ev(2, 40), ev(3, 60)]
    const shard1 = [ev(1, 20), ev(2, 50), ev(3, 30)]
    expect(latest([shard0, shard1], 3).map((e) => e.time)).toEqual([40, 50, 60])
  })
  it('is empty for an empty log and whole for a short one', () => {
    expect(latest([[]], 50)).toEqual([])
    expect(latest([[ev(1, 1), ev(2, 2)]], 50)).toHaveLength(2)
  })
})
