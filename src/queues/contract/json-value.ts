import { z } from 'zod'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A value as a person reads it in an error message, cut short when long. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing'
  // JSON.parse reads 1e309 as Infinity, which JSON.stringify would show as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return `${value} (a number too large for a double)`
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = typeof value === 'bigint' ? `${value}n` : Object.prototype.toString.call(value)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** Any JSON value, with an error that says what was wrong rather than zod's bare "Invalid input". */
export const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)], {
    error: (issue) =>
      issue.input === undefined ? 'is required (any JSON value)' : `must be JSON (string, number, boolean, null, array or object), got ${shown(issue.input)}`,
  }),
)

/**
 * A JSON value nested at most `maxDepth` levels deep. The depth is measured first, never deeper than
 * `maxDepth`: a value nested thousands of levels deep would overflow the stack of the recursive
 * schema (and of whatever reads it next), failing with a RangeError instead of a reason.
 */
export function boundedJsonValue(maxDepth: number) {
  return z.preprocess((input, ctx) => {
    if (nestedDeeperThan(input, maxDepth)) ctx.issues.push({ code: 'custom', message: `nested more than ${maxDepth} levels deep`, input })
    return input
  }, jsonValue)
}

/**
 * Whether the value holds an object or array `maxDepth` levels down. The recursion stops there, so
 * it is at most `maxDepth` calls deep however deep the value.
 */
function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return false
  if (maxDepth <= 0) return true
  for (const key in value) {
    if (Object.hasOwn(value, key) && nestedDeeperThan((value as Record<string, unknown>)[key], maxDepth - 1)) return true
  }
  return false
}

/**
 * Whether the value is JSON (strings, finite numbers, booleans, null, arrays without holes and plain
 * objects) with no object or array `maxDepth` levels down: what `boundedJsonValue(maxDepth)` accepts,
 * or less (an object of another prototype, say), never more. The write validator's fast path walks
 * each value once with it, allocating nothing, in place of a compiled recursive schema.
 */
export function isJsonWithin(value: unknown, maxDepth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (maxDepth <= 0) return false
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) if (!isJsonWithin(value[index], maxDepth - 1)) return false
        return true
      }
      const prototype = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) return false
      for (const key in value) {
        if (Object.hasOwn(value, key) && !isJsonWithin((value as Record<string, unknown>)[key], maxDepth - 1)) return false
      }
      return true
    }
    default:
      return false
  }
}
