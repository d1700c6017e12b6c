/** IPv4 and IPv6 addresses and CIDR blocks for the `cidr` filter operator. */

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const HEX = /^[0-9a-fA-F]{1,4}$/

/**
 * The bytes of an IPv4 (4) or IPv6 (16) address literal, or undefined when `s` is not one.
 * IPv6 takes hex groups with at most one `::` (no zone, no embedded IPv4, as EventBridge).
 *
 * @example
 * ipBytes('10.0.0.1') // Uint8Array [10, 0, 0, 1]
 * ipBytes('::1')      // 16 bytes, the last 1
 */
export const ipBytes = (s: string): Uint8Array | undefined => {
  const v4 = V4.exec(s)
  if (v4) {
    const b = v4.slice(1).map(Number)
    return b.every((x) => x <= 255) ? Uint8Array.from(b) : undefined
  }
  if (!s.includes(':') || s.length > 39) return undefined
  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')))
  const count = groups[0]!.length + (groups[1]?.length ?? 0)
  if (
    groups.some((g) => g.some((x) => !HEX.test(x))) ||
    (halves.length === 1 ? count !== 8 : count > 7)
  )
    return undefined
  const words = [...groups[0]!, ...Array<string>(8 - count).fill('0'), ...(groups[1] ?? [])].map(
    (x) => parseInt(x, 16),
  )
  const out = new Uint8Array(16)
  words.forEach((w, i) => {
    out[2 * i] = w >> 8
    out[2 * i + 1] = w & 255
  })
  return out
}

/**
 * Parses `address/bits` into a predicate over address strings, or returns why it is refused.
 *
 * @example
 * const inNet = parseCidr('10.0.0.0/24')
 * typeof inNet === 'function' && inNet('10.0.0.7') // true
 */
export const parseCidr = (cidr: string): ((ip: string) => boolean) | string => {
  const [addr, bits, more] = cidr.split('/')
  if (bits === undefined || more !== undefined) return 'needs exactly one "/" (address/bits)'
  const base = ipBytes(addr!)
  if (!base) return `"${addr}" is not an IPv4 or IPv6 address`
  const max = base.length * 8
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max)
    return `mask bits "${bits}" must be an integer from 0 to ${max}`
  const n = Number(bits)
  return (ip) => {
    const b = ipBytes(ip)
    if (!b || b.length !== base.length) return false
    for (let i = 0; i < n; i += 8) {
      const keep = n - i >= 8 ? 255 : (0xff00 >> (n - i)) & 255
      if ((b[i / 8]! & keep) !== (base[i / 8]! & keep)) return false
    }
    return true
  }
}
