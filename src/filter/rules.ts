import type { BusEvent } from '../event.js'

/** A JSON scalar a rule may compare with. */
export type Scalar = string | number | boolean | null
/** A `numeric` comparison. */
export type Op = '<' | '<=' | '=' | '>=' | '>'
type IgnoreCase = { 'equals-ignore-case': string }
type OneOrMany<T> = T | readonly T[]

/**
 * One alternative of a filter leaf (EventBridge's event-pattern operators): an exact value, or one
 * operator. String operators match strings only, `numeric` numbers only, `cidr` IP address strings.
 *
 * @example
 * const rules: FilterRule[] = ['FR', { prefix: 'AB-' }, { numeric: ['>=', 100, '<', 200] }, { exists: false },
 *   { wildcard: '*.png' }, { cidr: '10.0.0.0/8' }, { prefix: { 'equals-ignore-case': 'ab-' } },
 *   { 'anything-but': { wildcard: ['*.tmp', '*.bak'] } }]
 */
export type FilterRule =
  | Scalar
  | { prefix: string | IgnoreCase }
  | { suffix: string | IgnoreCase }
  | IgnoreCase
  | { wildcard: string }
  | { cidr: string }
  | { exists: boolean }
  | { numeric: readonly [Op, number] | readonly ['>' | '>=', number, '<' | '<=', number] }
  | {
      'anything-but':
        | Scalar
        | readonly Scalar[]
        | { prefix: OneOrMany<string> }
        | { suffix: OneOrMany<string> }
        | { 'equals-ignore-case': OneOrMany<string> }
        | { wildcard: OneOrMany<string> }
    }

/**
 * A JSON-serializable filter over the event envelope. Keys AND; a leaf is a non-empty array of
 * rules that OR; a nested object descends into that field (`data: { ... }` into the payload);
 * `$or: [filterA, filterB, ...]` matches when any sub-filter does, `$and: [...]` when all do (each
 * takes at least two).
 *
 * @example
 * const f: Filter = { source: ['web'], data: { total: [{ numeric: ['>=', 100] }], $or: [{ vip: [true] }, { country: ['FR'] }] } }
 */
export type Filter = {
  [field: string]: readonly FilterRule[] | Filter | readonly Filter[]
  $or?: readonly Filter[]
  $and?: readonly Filter[]
}

/**
 * A compiled filter, or a function predicate given in its place (local subscriptions only).
 *
 * @example
 * const big: EventPredicate = (e) => (e.data as { total: number }).total > 100
 */
export type EventPredicate<E extends BusEvent = BusEvent> = (event: E) => boolean
