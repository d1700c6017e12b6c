const CHUNK = 512

/**
 * Sorted unique strings in chunks (a one-level B-tree): appends, inserts and removals cost
 * O(log n + chunk) instead of shifting one big array.
 */
export class SortedKeys {
  #chunks: string[][] = [[]]

  /** Index of the first chunk whose last key is >= k (or the last chunk). */
  #chunkFor(k: string): number {
    const c = this.#chunks
    let lo = 0,
      hi = c.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const last = c[mid]!
      if (last[last.length - 1]! < k) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  insert(k: string): void {
    const ci = this.#chunkFor(k)
    const chunk = this.#chunks[ci]!
    if (!chunk.length || chunk[chunk.length - 1]! < k) chunk.push(k)
    else chunk.splice(lowerBound(chunk, k), 0, k)
    if (chunk.length > 2 * CHUNK) this.#chunks.splice(ci + 1, 0, chunk.splice(CHUNK))
  }

  remove(k: string): void {
    const ci = this.#chunkFor(k)
    const chunk = this.#chunks[ci]!
    const i = lowerBound(chunk, k)
    if (chunk[i] !== k) return
    chunk.splice(i, 1)
    if (!chunk.length && this.#chunks.length > 1) this.#chunks.splice(ci, 1)
  }

  /** Removes every key in `[start, end)`, a span at a time; returns them. */
  removeRange(start: string, end: string): string[] {
    const out: string[] = []
    const c = this.#chunks
    for (let ci = this.#chunkFor(start); ci < c.length;) {
      const chunk = c[ci]!
      const i = lowerBound(chunk, start)
      const j = lowerBound(chunk, end)
      out.push(...chunk.splice(i, j - i))
      if (!chunk.length && c.length > 1) c.splice(ci, 1)
      else ci++
      if (j < chunk.length + (j - i) || ci >= c.length) break
    }
    return out
  }

  /** Keys in `[start, end)`, ascending or descending, at most `limit`. */
  range(start: string, end: string, limit: number, reverse: boolean): string[] {
    const out: string[] = []
    const c = this.#chunks
    if (!reverse) {
      for (
        let ci = this.#chunkFor(start), i = lowerBound(c[ci]!, start);
        ci < c.length;
        ci++, i = 0
      ) {
        const chunk = c[ci]!
        for (; i < chunk.length; i++) {
          const k = chunk[i]!
          if (k >= end || out.length >= limit) return out
          out.push(k)
        }
      }
    } else {
      for (let ci = this.#chunkFor(end), first = true; ci >= 0; ci--, first = false) {
        const chunk = c[ci]!
        for (let i = (first ? lowerBound(chunk, end) : chunk.length) - 1; i >= 0; i--) {
          const k = chunk[i]!
          if (k < start || out.length >= limit) return out
          out.push(k)
        }
      }
    }
    return out
  }
}

const lowerBound = (a: string[], k: string): number => {
  let lo = 0,
    hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (a[mid]! < k) lo = mid + 1
    else hi = mid
  }
  return lo
}
