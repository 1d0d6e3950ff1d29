import { z } from 'zod'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A value as a person reads it in an error message, cut short when long. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing'
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
 * A JSON value nested at most `maxDepth` levels deep. The depth is measured first, without
 * recursion: a value nested thousands of levels deep would overflow the stack of the recursive
 * schema (and of whatever reads it next), failing with a RangeError instead of a reason.
 */
export function boundedJsonValue(maxDepth: number) {
  return z.preprocess((input, ctx) => {
    if (nestedDeeperThan(input, maxDepth)) ctx.issues.push({ code: 'custom', message: `nested more than ${maxDepth} levels deep`, input })
    return input
  }, jsonValue)
}

function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const [item, depth] = entry
    if (item === null || typeof item !== 'object') continue
    if (depth >= maxDepth) return true
    for (const child of Object.values(item)) stack.push([child, depth + 1])
  }
  return false
}
