import { appendFileSync, readFileSync } from 'node:fs'
import { inject } from 'vitest'

/** What a fault test survived and what it found; the suite sums them at the end. */
export interface Figures {
  kills?: number
  outageSeconds?: number
  redisRestarts?: number
  malformedInputs?: number
  /** Seconds PostgreSQL was hung (a proxy that stopped forwarding), and the acknowledged writes then checked in PostgreSQL. */
  hungPostgresSeconds?: number
  hungPostgresWritesChecked?: number
  /** The same for a hung Redis. */
  hungRedisSeconds?: number
  hungRedisWritesChecked?: number
  /** Acknowledged writes lost by kill -9 of Redis on a slow disk, in each DURABILITY mode. */
  slowDiskLossStrict?: number
  slowDiskLossDefault?: number
  /** Peak Redis used_memory under the worst case, and what the docs' formula allows, in bytes. */
  peakRedisMemory?: number
  redisMemoryFormula?: number
  keysChecked: number
  lost: number
  regressed: number
}

declare module 'vitest' {
  export interface ProvidedContext {
    figuresFile: string
    postgresTemplate: string
  }
}

/** Prints a test's figures and keeps them for the suite's closing line. */
export function reportFigures(test: string, figures: Figures): void {
  console.log(`[faults] ${test}: ${describe(figures)}`)
  appendFileSync(inject('figuresFile'), `${JSON.stringify(figures)}\n`)
}

/** The closing line: every test's figures summed. */
export function summarizeFigures(file: string): string {
  const all = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Figures)
  const sum = (name: keyof Figures) => all.reduce((total, figures) => total + (figures[name] ?? 0), 0)
  return describe({
    kills: sum('kills'),
    outageSeconds: sum('outageSeconds'),
    redisRestarts: sum('redisRestarts'),
    malformedInputs: sum('malformedInputs'),
    hungPostgresSeconds: sum('hungPostgresSeconds'),
    hungPostgresWritesChecked: sum('hungPostgresWritesChecked'),
    hungRedisSeconds: sum('hungRedisSeconds'),
    hungRedisWritesChecked: sum('hungRedisWritesChecked'),
    slowDiskLossStrict: present(all, 'slowDiskLossStrict'),
    slowDiskLossDefault: present(all, 'slowDiskLossDefault'),
    peakRedisMemory: present(all, 'peakRedisMemory'),
    redisMemoryFormula: present(all, 'redisMemoryFormula'),
    keysChecked: sum('keysChecked'),
    lost: sum('lost'),
    regressed: sum('regressed'),
  })
}

/** The sum of a figure only the tests that measure it report; undefined (left out of the line) when none did. */
function present(all: Figures[], name: keyof Figures): number | undefined {
  const reported = all.filter((figures) => figures[name] !== undefined)
  return reported.length === 0 ? undefined : reported.reduce((total, figures) => total + figures[name]!, 0)
}

const MB = 1024 * 1024

function describe(figures: Figures): string {
  const parts = [
    figures.kills !== undefined && `kills survived ${figures.kills}`,
    figures.outageSeconds !== undefined && `PostgreSQL outage survived ${figures.outageSeconds.toFixed(1)} s`,
    figures.redisRestarts !== undefined && `Redis restarts ${figures.redisRestarts}`,
    figures.malformedInputs !== undefined && `malformed inputs tried ${figures.malformedInputs}`,
    figures.hungPostgresSeconds !== undefined && `hung PostgreSQL survived ${figures.hungPostgresSeconds.toFixed(1)} s`,
    figures.hungPostgresWritesChecked !== undefined && `acknowledged writes checked in PostgreSQL after it ${figures.hungPostgresWritesChecked}`,
    figures.hungRedisSeconds !== undefined && `hung Redis survived ${figures.hungRedisSeconds.toFixed(1)} s`,
    figures.hungRedisWritesChecked !== undefined && `acknowledged writes checked in PostgreSQL after it ${figures.hungRedisWritesChecked}`,
    figures.slowDiskLossStrict !== undefined && `slow-disk crash loss strict ${figures.slowDiskLossStrict}`,
    figures.slowDiskLossDefault !== undefined && `slow-disk crash loss default ${figures.slowDiskLossDefault}`,
    figures.peakRedisMemory !== undefined &&
      `peak Redis memory ${(figures.peakRedisMemory / MB).toFixed(1)} MB of ${((figures.redisMemoryFormula ?? 0) / MB).toFixed(1)} MB by the formula`,
    `keys checked ${figures.keysChecked}`,
    `lost keys ${figures.lost}`,
    `regressed keys ${figures.regressed}`,
  ]
  return parts.filter(Boolean).join(', ')
}
