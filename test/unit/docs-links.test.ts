import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

// The README and docs/ name files and sections of this repository; when one moves, they must follow.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
]
const text = (file: string) => readFileSync(join(ROOT, file), 'utf8')

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-')
}

function anchors(file: string): Set<string> {
  const withoutCode = text(file).replace(/^```[\s\S]*?^```/gm, '')
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchor(match[1]!)))
}

test('every relative link of README.md and docs/*.md names a file that exists, and a heading it has', () => {
  const broken: string[] = []
  for (const file of FILES) {
    for (const [, target] of text(file).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue
      const [path, fragment] = target!.split('#')
      const linked = path === '' ? file : join(dirname(file), path!)
      if (!existsSync(join(ROOT, linked))) broken.push(`${file}: ${target} (no file ${linked})`)
      else if (fragment !== undefined && linked.endsWith('.md') && !anchors(linked).has(fragment)) broken.push(`${file}: ${target} (no heading)`)
    }
  }
  expect(broken).toEqual([])
})

test('every path of the repository that README.md and docs/*.md name in code spans exists', () => {
  const missing: string[] = []
  for (const file of FILES) {
    for (const [, path] of text(file).matchAll(/`((?:src|test|bench|prisma|docs|\.ci)\/[^`\s*<>{}:,]*)`/g)) {
      if (!existsSync(join(ROOT, path!))) missing.push(`${file}: ${path}`)
    }
  }
  expect(missing).toEqual([])
})
