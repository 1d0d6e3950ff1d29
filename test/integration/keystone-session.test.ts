import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeystoneConfigurationError, KeystoneSession, KeystoneUnavailableError } from '../../src/openstack/keystone-session.ts'
import { KeystoneAdmin, type KeystoneUser } from '../support/keystone-admin.ts'
import { startKeystone, type OpenStackServer } from '../support/openstack.ts'

describe('KeystoneSession against a real Keystone', () => {
  let keystone: OpenStackServer
  let admin: KeystoneAdmin
  let serviceUser: KeystoneUser

  beforeAll(async () => {
    keystone = await startKeystone()
    admin = await KeystoneAdmin.connect(keystone.url)
    serviceUser = await admin.user('service', ['service', 'admin'])
  }, 600_000)
  afterAll(async () => keystone?.remove())

  const passwordSession = () =>
    new KeystoneSession({ authUrl: keystone.url, username: serviceUser.username, password: serviceUser.password, projectName: 'service' })

  const validate = async (token: string) => {
    const response = await fetch(`${keystone.url}/auth/tokens`, { headers: { 'x-auth-token': token, 'x-subject-token': token } })
    return { status: response.status, body: (await response.json()) as { token: { user: { name: string }; project: { name: string } } } }
  }

  it('logs in with a password, reuses the token, logs in again after invalidate()', async () => {
    const session = passwordSession()
    const [first, concurrent] = await Promise.all([session.token(), session.token()])
    expect(concurrent).toBe(first)
    const checked = await validate(first)
    expect(checked.status).toBe(200)
    expect(checked.body.token.user.name).toBe(serviceUser.username)
    expect(checked.body.token.project.name).toBe('service')
    expect(await session.token()).toBe(first)
    session.invalidate()
    const second = await session.token()
    expect(second).not.toBe(first)
    expect((await validate(second)).status).toBe(200)
  })

  it('renews a token that is about to expire', async () => {
    // Renewing 2 h before expiry: every token (1 h) is already due, so each call logs in.
    const session = new KeystoneSession(
      { authUrl: keystone.url, username: serviceUser.username, password: serviceUser.password, projectName: 'service' },
      { renewBeforeMs: 2 * 3600_000 },
    )
    const first = await session.token()
    expect(await session.token()).not.toBe(first)
  })

  it('logs in with an application credential', async () => {
    const token = await admin.login(serviceUser)
    const created = await fetch(`${keystone.url}/users/${serviceUser.userId}/application_credentials`, {
      method: 'POST',
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ application_credential: { name: `conductor-${Date.now()}` } }),
    })
    expect(created.status).toBe(201)
    const { application_credential: credential } = (await created.json()) as { application_credential: { id: string; secret: string } }
    const session = new KeystoneSession({ authUrl: keystone.url, applicationCredentialId: credential.id, applicationCredentialSecret: credential.secret })
    const checked = await validate(await session.token())
    expect(checked.status).toBe(200)
    expect(checked.body.token.project.name).toBe('service')
  })

  it('finds endpoints in the catalog, and says which one is missing', async () => {
    const session = passwordSession()
    expect(await session.endpoint('identity')).toBe(keystone.url.replace(/\/$/, ''))
    expect(await session.endpoint('identity', 'internal', 'RegionOne')).toBe(keystone.url)
    await expect(session.endpoint('identity', 'public', 'NoSuchRegion')).rejects.toThrow(KeystoneConfigurationError)
    await expect(session.endpoint('accelerator-nowhere')).rejects.toThrow(/no public endpoint of service type "accelerator-nowhere"/)
  })

  it('refuses wrong credentials as a configuration fault, and an unreachable Keystone as unavailable', async () => {
    const wrong = new KeystoneSession({ authUrl: keystone.url, username: serviceUser.username, password: 'wrong', projectName: 'service' })
    await expect(wrong.token()).rejects.toThrow(KeystoneConfigurationError)
    const nowhere = new KeystoneSession({ authUrl: 'http://127.0.0.1:1/v3', username: 'x', password: 'y', projectName: 'z' }, { timeoutMs: 2000 })
    await expect(nowhere.token()).rejects.toThrow(KeystoneUnavailableError)
  })
})
