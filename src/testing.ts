export { manualClock } from './clock/manual-clock.js'
export type { ManualClock } from './clock/manual-clock.js'
export { storeConformance } from './store/conformance.js'
export type { ConformanceTarget, TestApi } from './store/conformance.js'
