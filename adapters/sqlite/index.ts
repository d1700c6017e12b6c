export { sqliteStore } from './open.js'
export type { SqlitePathOptions } from './open.js'
export type { SqliteStore, SqliteStoreOptions } from './store.js'
export type { SqliteDatabase } from './_driver.js'
