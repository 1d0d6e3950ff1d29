import { afterAll, beforeAll, expect, test } from 'vitest'
import { fault, useApi } from '../support/api.ts'
import { KeystoneAdmin, type KeystoneUser } from '../support/keystone-admin.ts'
import { startKeystone, type OpenStackServer } from '../support/openstack.ts'
import { waitFor } from '../support/wait-for.ts'

// A Keystone whose tokens live 20 s, so that a token expires during the test.
const TOKEN_LIFETIME_S = 20

let keystone: OpenStackServer
let admin: KeystoneAdmin
const users = {} as Record<'conductor' | 'nova' | 'alice', KeystoneUser>

beforeAll(async () => {
  keystone = await startKeystone({ tokenExpirationS: TOKEN_LIFETIME_S })
  admin = await KeystoneAdmin.connect(keystone.url)
  users.conductor = await admin.user('service', ['service'])
  users.nova = await admin.user('service', ['service'])
  users.alice = await admin.user('expiry', ['member'])
}, 600_000)
afterAll(async () => keystone?.remove())

const startApi = useApi()

test("an expired token is refused once it expires, cache or not; with Nova's valid service token it still passes, as keystonemiddleware's allow_expired", async () => {
  const { app } = await startApi({
    KEYSTONE_URL: keystone.url,
    KEYSTONE_USERNAME: users.conductor.username,
    KEYSTONE_PASSWORD: users.conductor.password,
    KEYSTONE_PROJECT_NAME: 'service',
    KEYSTONE_TOKEN_CACHE_S: '300',
  })
  const get = (headers: Record<string, string>) => app.inject({ url: '/v2/accelerator_requests', headers })
  const issuedAt = Date.now()
  const token = await admin.login(users.alice)
  expect((await get({ 'x-auth-token': token })).statusCode).toBe(200)

  // The cached validation ends with the token: refused from then on, although the cache bound is 300 s.
  const expired = await waitFor(
    async () => {
      const answer = await get({ 'x-auth-token': token })
      return answer.statusCode === 401 && answer
    },
    'the token to expire',
    60_000,
  )
  expect(Date.now() - issuedAt).toBeGreaterThanOrEqual((TOKEN_LIFETIME_S - 2) * 1000)
  expect(fault(expired)).toBe('the token is not valid: it is not one of API_TOKENS and Keystone does not know it')

  // Nova finishing a long build: its own token is fresh, the user's expired on the way.
  const novaToken = await admin.login(users.nova)
  const withService = await get({ 'x-auth-token': token, 'x-service-token': novaToken })
  expect(withService.statusCode).toBe(200)
  expect((await get({ 'x-auth-token': token, 'x-service-token': token })).statusCode).toBe(401)
}, 120_000)
