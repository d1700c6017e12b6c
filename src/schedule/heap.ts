/**
 * A binary min-heap of `[key, value]` pairs: the scheduler's "which tick is next" in O(log n),
 * however many schedules there are.
 */
export const createHeap = <V>() => {
  const heap: [number, V][] = []
  return {
    get size() {
      return heap.length
    },
    peek: (): [number, V] | undefined => heap[0],
    push(key: number, value: V) {
      const item: [number, V] = [key, value]
      let i = heap.length
      heap.push(item)
      while (i > 0) {
        const p = (i - 1) >> 1
        if (heap[p]![0] <= key) break
        heap[i] = heap[p]!
        i = p
      }
      heap[i] = item
    },
    pop(): [number, V] | undefined {
      const top = heap[0]
      const last = heap.pop()
      if (heap.length && last) {
        let i = 0
        for (;;) {
          const l = 2 * i + 1,
            r = l + 1
          let m = l < heap.length && heap[l]![0] < last[0] ? l : -1
          if (r < heap.length && heap[r]![0] < (m < 0 ? last[0] : heap[m]![0])) m = r
          if (m < 0) break
          heap[i] = heap[m]!
          i = m
        }
        heap[i] = last
      }
      return top
    },
  }
}
