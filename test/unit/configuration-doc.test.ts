import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { configSchema, loadConfig } from '../../src/config.ts'

/** The rows of docs/configuration.md's table: `| \`NAME\` | default | meaning |`. */
function documentedVariables(): Map<string, { defaultCell: string; meaning: string }> {
  const text = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  const rows = new Map<string, { defaultCell: string; meaning: string }>()
  for (const line of text.split('\n')) {
    const cells = /^\| `([A-Z0-9_]+)` \| (.*?) \| (.*) \|$/.exec(line)
    if (cells) rows.set(cells[1]!, { defaultCell: cells[2]!, meaning: cells[3]! })
  }
  return rows
}

test('docs/configuration.md documents every variable of src/config.ts, and nothing else', () => {
  expect([...documentedVariables().keys()].sort()).toEqual(Object.keys(configSchema.shape).sort())
})

test('docs/configuration.md gives each variable the default src/config.ts applies, and a meaning', () => {
  const defaults: Record<string, unknown> = loadConfig({})
  for (const [name, { defaultCell, meaning }] of documentedVariables()) {
    const value = defaults[name]
    // No default (unset, or an empty list): the cell says in words what happens, in parentheses.
    const expected = value === undefined || (Array.isArray(value) && value.length === 0) ? /^\(.+\)$/ : `\`${String(value)}\``
    if (typeof expected === 'string') expect(defaultCell, name).toBe(expected)
    else expect(defaultCell, name).toMatch(expected)
    expect(meaning.length, `${name} has a meaning`).toBeGreaterThan(10)
  }
})
