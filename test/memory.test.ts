import { describe, expect, it } from 'vitest'
import { memoryStore } from '../src/store/memory.js'
import { storeConformance } from '../src/testing.js'

storeConformance(
  'memoryStore',
  { open: () => memoryStore(), reopen: (s) => s },
  { describe, it, expect },
)
