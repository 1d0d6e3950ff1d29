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
