import { isUuid } from '../queues/name-uuid.ts'
import type { EntityCache } from './entity-cache.ts'
import type { WriteBuffer } from './write-buffer.ts'

/** Objects written through to PostgreSQL and then cached: device profiles and accelerator requests. */
export const viewKinds = ['device-profile', 'arq'] as const
export type ViewKind = (typeof viewKinds)[number]

/** A device profile is cached under its uuid and under `name:<name>`. */
export const deviceProfileKey = (id: string) => (isUuid(id) ? id.toLowerCase() : `name:${id}`)

export interface CachedView {
  key: string
  /** Grows with every committed change, so a late write of an older view never wins. */
  version: number
  view: unknown
}

/** The API's answers for write-through objects, cached after each commit and read without a queue. */
export class ViewCache {
  constructor(
    private readonly cache: EntityCache,
    private readonly buffer: WriteBuffer,
  ) {}

  async put(kind: ViewKind, views: CachedView[]): Promise<void> {
    await this.cache.prime(kind, views.map(({ key, version, view }) => ({ key, version, valueJson: JSON.stringify(view) })))
  }

  async get<T>(kind: ViewKind, key: string): Promise<T | null> {
    const cached = await this.cache.read(kind, key)
    return cached ? (cached.value as T) : null
  }

  async drop(kind: ViewKind, keys: string[]): Promise<void> {
    await this.buffer.forget(kind, keys)
  }
}
