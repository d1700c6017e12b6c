// The adapter kit: what adapters may import from the core besides the public src/index.ts.
export { sqlStore } from './store/sql.js'
export type { SqlChange, SqlDriver, SqlStatement, SqlStore, SqlStoreOptions, SqlValue } from './store/sql.js'
