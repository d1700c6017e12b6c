import type { BusEvent } from '../event.js'

/**
 * The pump's index over the buffer, so that a completion finds the next event of its key without
 * rescanning the backlog: `frontier` holds, in seq order from `head`, the unkeyed events and the
 * first undone event of each ordering key; each key's later events wait in its lane, in order.
 * A hot key with thousands of buffered events then costs the pump one entry, not thousands.
 */
export interface LaneIndex {
  frontier: BusEvent[]
  head: number
  lanes: Map<string, Lane>
  /** Set while `walkFrontier` runs: the frontier is not compacted under a walk. */
  walking: boolean
}

/** One ordering key's buffered events: `current` stands in the frontier, `later[next..]` wait. */
interface Lane {
  current: BusEvent
  later: BusEvent[]
  next: number
}

/**
 * An empty index (a runner's start, or its buffer dropped on reload).
 *
 * @example
 * state.lanes = createLaneIndex()
 */
export const createLaneIndex = (): LaneIndex => ({
  frontier: [],
  head: 0,
  lanes: new Map(),
  walking: false,
})

/**
 * Indexes an event just pushed to the buffer (its seq is above every indexed one).
 *
 * @example
 * state.buffer.push(event); indexEvent(state.lanes, event)
 */
export const indexEvent = (index: LaneIndex, event: BusEvent): void => {
  if (event.key === undefined) {
    index.frontier.push(event)
    return
  }
  const lane = index.lanes.get(event.key)
  if (lane) lane.later.push(event)
  else {
    index.lanes.set(event.key, { current: event, later: [], next: 0 })
    index.frontier.push(event)
  }
}

/** The first position after `from` whose event's seq is above `seq` (binary search). */
const positionAfter = (frontier: readonly BusEvent[], from: number, seq: number): number => {
  let low = from + 1
  let high = frontier.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (frontier[middle]!.seq < seq) low = middle + 1
    else high = middle
  }
  return low
}

/** A done lane head at `position` gives way to its key's next undone event, placed in seq order. */
const promote = (
  index: LaneIndex,
  event: BusEvent,
  position: number,
  isDone: (event: BusEvent) => boolean,
): void => {
  if (event.key === undefined) return
  const lane = index.lanes.get(event.key)
  if (lane?.current !== event) return
  while (lane.next < lane.later.length && isDone(lane.later[lane.next]!)) lane.next++
  if (lane.next >= lane.later.length) {
    index.lanes.delete(event.key)
    return
  }
  const next = lane.later[lane.next++]!
  lane.current = next
  if (lane.next > 1024 && lane.next * 2 > lane.later.length) {
    lane.later = lane.later.slice(lane.next)
    lane.next = 0
  }
  index.frontier.splice(positionAfter(index.frontier, position, next.seq), 0, next)
}

/**
 * Visits the undone events of the frontier in seq order until `visit` returns false; done heads
 * are replaced by their key's next event on the way, and dropped from the front.
 *
 * @example
 * walkFrontier(state.lanes, isDone, (event) => consider(event))
 */
export const walkFrontier = (
  index: LaneIndex,
  isDone: (event: BusEvent) => boolean,
  visit: (event: BusEvent) => boolean,
): void => {
  if (!index.walking && index.head > 1024 && index.head * 2 > index.frontier.length) {
    index.frontier = index.frontier.slice(index.head)
    index.head = 0
  }
  const outer = index.walking
  index.walking = true
  try {
    for (let position = index.head; position < index.frontier.length; position++) {
      const event = index.frontier[position]!
      if (isDone(event)) {
        promote(index, event, position, isDone)
        if (position === index.head) index.head++
      } else if (!visit(event)) break
    }
  } finally {
    index.walking = outer
  }
}
