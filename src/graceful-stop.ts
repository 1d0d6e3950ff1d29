import type { Logger } from 'pino'

/**
 * How long a repeated signal counts as the first one. Ctrl+C under `npm start` arrives twice: the
 * terminal sends SIGINT to the whole foreground process group, node included, and npm forwards the
 * SIGINT it got to its child as well, a few milliseconds later. Only a signal after this window is an
 * operator insisting.
 */
export const REPEATED_SIGNAL_WINDOW_MS = 2000

/**
 * Runs `stop` on the first SIGTERM or SIGINT, then exits 0 (1 if it failed). A second signal after
 * REPEATED_SIGNAL_WINDOW_MS exits 1 at once, without waiting for `stop`.
 */
export function stopOnSignals(log: Logger, name: string, stop: () => Promise<void>): void {
  let firstSignalAt: number | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now()
      log.info({ signal }, `stopping the ${name}`)
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, `stopping the ${name} failed`)
          process.exit(1)
        },
      )
    } else if (Date.now() - firstSignalAt < REPEATED_SIGNAL_WINDOW_MS) {
      log.debug({ signal }, 'the same stop signal again (npm forwards what the terminal sent): ignored')
    } else {
      log.warn({ signal }, `second signal: the ${name} exits without waiting for its stop to finish`)
      process.exit(1)
    }
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
