import type { TokenSource } from './token-source.ts'

/** A constant token: `admin` for a Placement running with `auth_strategy = noauth2` (a stand-alone test cloud). */
export class StaticToken implements TokenSource {
  constructor(private readonly value: string) {}

  async token(): Promise<string> {
    return this.value
  }

  invalidate(): void {}
}
