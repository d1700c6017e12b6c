/**
 * The adapter kit: core parts the adapters use that are not part of the public API.
 *
 * @example
 * import { checkBatch } from '../../src/internal.js'
 * const batch = checkBatch({ size: 100, wait: 0 })
 */
export { checkBatch } from './subscriptions/arguments.js'
export { MAX_BATCH_SIZE } from './subscriptions/batch.js'
