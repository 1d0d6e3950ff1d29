/** One line per sample while the bench runs, so a long run shows it is alive and how it fares. */
export class Progress {
  private readonly startedAt = Date.now()

  line(phase: string, fields: Record<string, string | number>): void {
    const elapsed = ((Date.now() - this.startedAt) / 1000).toFixed(0).padStart(4)
    const text = Object.entries(fields)
      .map(([name, value]) => `${name} ${typeof value === 'number' ? Math.round(value) : value}`)
      .join('  ')
    console.log(`[bench ${elapsed}s] ${phase.padEnd(20)} ${text}`)
  }

  /** Calls `sample` every `everyMs` until the returned stop function is called. */
  every(everyMs: number, sample: () => Promise<void> | void): () => void {
    const timer = setInterval(() => void Promise.resolve(sample()).catch(() => {}), everyMs)
    return () => clearInterval(timer)
  }
}
