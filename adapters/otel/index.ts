export { otel } from './otel.js'
export type { OtelOptions } from './otel.js'
