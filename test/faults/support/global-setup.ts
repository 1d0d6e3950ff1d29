import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { buildDist } from '../../support/build.ts'
import { summarizeFigures } from './figures.ts'
import { PrivatePostgres } from './private-postgres.ts'

/**
 * Once per fault run: dist/ built (the conductors run it), a migrated PostgreSQL cluster each test
 * file copies into a private server of its own, and the file the tests write their figures to.
 * Teardown prints the figures and removes both.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildDist()
  const dir = await mkdtemp(join(tmpdir(), 'cyborg-faults-'))
  const figuresFile = join(dir, 'figures.jsonl')
  await writeFile(figuresFile, '')
  const template = await PrivatePostgres.createTemplate()
  project.provide('figuresFile', figuresFile)
  project.provide('postgresTemplate', template.root)
  return async () => {
    console.log(`\nfault figures: ${summarizeFigures(figuresFile)}`)
    await template.destroy()
    await rm(dir, { recursive: true, force: true })
  }
}
