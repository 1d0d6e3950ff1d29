/** Data a producer was about to enqueue breaks the job contract: nothing was enqueued. */
export class ContractError extends Error {
  override name = 'ContractError'
}
