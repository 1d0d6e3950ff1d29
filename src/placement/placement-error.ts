/**
 * Placement answered with an error, or did not answer (`status` 0). `code` is Placement's error code
 * (`placement.concurrent_update`, `placement.inventory.inuse`, ...) when the answer carried one.
 */
export class PlacementError extends Error {
  override name = 'PlacementError'

  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined = undefined,
  ) {
    super(message)
  }

  /** A resource provider generation conflict: someone else changed the provider since it was read. */
  get isGenerationConflict(): boolean {
    return this.status === 409 && this.code === 'placement.concurrent_update'
  }
}
