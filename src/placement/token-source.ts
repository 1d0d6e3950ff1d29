/** Where the Placement client gets its X-Auth-Token: a Keystone session, or a constant one. */
export interface TokenSource {
  token(): Promise<string>
  /** The service answered 401 to the last token: the next token() fetches a new one. */
  invalidate(): void
}
