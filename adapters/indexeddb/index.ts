export { indexedDBStore } from './store.js'
export type { IndexedDBStore, IndexedDBStoreOptions } from './store.js'
export { upgradeTidings } from './_schema.js'
