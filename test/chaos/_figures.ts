/**
 * One row of the fault-injection figures README carries. Every chaos scenario prints its row with
 * `report`, so `npm run chaos` ends with one table whatever ran.
 */
export interface ChaosFigures {
  scenario: string
  seed: number
  events: number
  faults: number
  lost: number
  undelivered: number
  /** Handled twice because a kill fell between the handling and its ack (at-least-once). */
  duplicatesExplained: number
  duplicatesUnexplained: number
  orderViolations: number
  poisonInjected: number
  poisonDeadLettered: number
}

/** `full` under `npm run chaos`, `small` inside `npm test`. */
export const CHAOS_FULL = process.env.CHAOS === 'full'

/** The seed of this run: CHAOS_SEED replays one, otherwise a fresh one is printed. */
export const chaosSeed = (): number =>
  Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31))

/** A small deterministic PRNG (mulberry32) so a printed seed replays the same faults. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Prints the row as one line of a Markdown table (the header comes from `CHAOS_HEADER`). */
export const report = (f: ChaosFigures): void => {
  console.log(
    `CHAOS | ${f.scenario} | seed ${f.seed} | ${f.events} | ${f.faults} | ${f.lost} | ${f.undelivered} | ${f.duplicatesExplained} | ${f.duplicatesUnexplained} | ${f.orderViolations} | ${f.poisonDeadLettered}/${f.poisonInjected} |`,
  )
}

export const CHAOS_HEADER =
  '| scenario | seed | events | faults | lost | undelivered | handled twice (kill between handling and ack) | handled twice (unexplained) | per-key order violations | poison dead-lettered |'
