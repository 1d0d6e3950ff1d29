import type { ViewCache, ViewKind } from '../cache/view-cache.ts'
import type { ConductorMetrics } from '../metrics/conductor-metrics.ts'

/**
 * Device profiles and ARQs by id, as the HTTP API reads them: from the view cache the workers fill
 * after each commit (one Redis call), and through the command queue only on a miss. A cached view
 * the caller may not see is not refused here: the command then answers not_found as for any miss.
 */
export class ViewReader {
  constructor(
    private readonly views: ViewCache,
    private readonly metrics: ConductorMetrics,
  ) {}

  async read<T>(kind: ViewKind, key: string, visible: (view: T) => boolean, load: () => Promise<T>): Promise<T> {
    const cached = await this.views.get<T>(kind, key)
    const hit = cached !== null && visible(cached)
    this.metrics.cacheRead(kind, hit)
    return hit ? cached : load()
  }
}
