import { appendFileSync, readFileSync } from 'node:fs'
import { inject } from 'vitest'

/** What a fault test survived and what it found; the suite sums them at the end. */
export interface Figures {
  kills?: number
  outageSeconds?: number
  redisRestarts?: number
  malformedInputs?: number
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
    keysChecked: sum('keysChecked'),
    lost: sum('lost'),
    regressed: sum('regressed'),
  })
}

function describe(figures: Figures): string {
  const parts = [
    figures.kills !== undefined && `kills survived ${figures.kills}`,
    figures.outageSeconds !== undefined && `PostgreSQL outage survived ${figures.outageSeconds.toFixed(1)} s`,
    figures.redisRestarts !== undefined && `Redis restarts ${figures.redisRestarts}`,
    figures.malformedInputs !== undefined && `malformed inputs tried ${figures.malformedInputs}`,
    `keys checked ${figures.keysChecked}`,
    `lost keys ${figures.lost}`,
    `regressed keys ${figures.regressed}`,
  ]
  return parts.filter(Boolean).join(', ')
}
