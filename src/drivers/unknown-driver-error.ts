/** A driver name (AGENT_DRIVERS, --driver) the agent does not have; the message lists those it has. */
export class UnknownDriverError extends Error {
  override name = 'UnknownDriverError'

  constructor(unknown: string[], known: string[]) {
    super(
      `unknown accelerator driver${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => JSON.stringify(name)).join(', ')}; known drivers: ${known.join(', ')}`,
    )
  }
}
