import type { Config } from '../config.ts'
import { PlacementClient, type RequestOutcome } from './placement-client.ts'
import { StaticToken } from './static-token.ts'
import type { TokenSource } from './token-source.ts'

/** noauth2's admin token: a stand-alone Placement (auth_strategy = noauth2) takes it as an admin. */
const NOAUTH2_ADMIN_TOKEN = 'admin'

/**
 * The Placement client of PLACEMENT_URL, or undefined when the conductor runs without Placement. Its
 * token is the Keystone service session's when KEYSTONE_URL configures one, noauth2's `admin` otherwise.
 */
export function placementClient(
  config: Config,
  session: TokenSource | undefined,
  onRequest?: (method: string, outcome: RequestOutcome) => void,
): PlacementClient | undefined {
  if (!config.PLACEMENT_URL) return undefined
  return new PlacementClient(config.PLACEMENT_URL, session ?? new StaticToken(NOAUTH2_ADMIN_TOKEN), { timeoutMs: config.PLACEMENT_TIMEOUT_MS, onRequest })
}
