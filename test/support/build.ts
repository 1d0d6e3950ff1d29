import { execFileSync } from 'node:child_process'

/** `npm run build`: the process tests run dist/ as production does (incremental: a second build takes well under a second). */
export function buildDist(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] })
}
