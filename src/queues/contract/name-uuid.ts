import { createHash } from 'node:crypto'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether `id` is shaped like a uuid: device profiles are named by uuid or by name. */
export const isUuid = (id: string) => UUID.test(id)

/** RFC 4122's DNS namespace, which Cyborg uses for the resource provider uuid of a deployable. */
export const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'
/** Our namespace for deployable uuids, so an agent knows the uuid its usage reports are keyed by. */
export const DEPLOYABLE_NAMESPACE = 'a3c4e6f1-4b7d-5c2e-9f10-7d1e2c3b4a59'

/** A name-based uuid (RFC 4122 version 3, MD5, or version 5, SHA-1), as Python's uuid.uuid3/uuid5. */
export function nameUuid(namespace: string, name: string, version: 3 | 5): string {
  const hash = createHash(version === 3 ? 'md5' : 'sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest()
  hash[6] = (hash[6]! & 0x0f) | (version << 4)
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The uuid of the deployable named `name`: the key of its `usage`. */
export const deployableUuid = (name: string) => nameUuid(DEPLOYABLE_NAMESPACE, name, 5)

/** The placement resource provider of the deployable named `name`, as Cyborg computes it. */
export const resourceProviderUuid = (name: string) => nameUuid(NAMESPACE_DNS, name, 3)
