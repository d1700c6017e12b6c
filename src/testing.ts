export { manualClock } from './manual-clock.js'
export type { ManualClock } from './manual-clock.js'
export { storeConformance } from './conformance.js'
export type { ConformanceTarget, TestApi } from './conformance.js'
