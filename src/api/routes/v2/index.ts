import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import microversion, { MAX_MINOR, MIN_MINOR } from '../../plugins/microversion.ts'
import acceleratorRequestRoutes from './accelerator-requests.ts'
import deviceProfileRoutes from './device-profiles.ts'
import inventoryRoutes from './inventory.ts'
import { baseUrl } from './presenters.ts'

/** Cyborg's v2 API, behind its microversion header. */
const v2Routes: FastifyPluginAsyncZod = async (app) => {
  await app.register(microversion)

  app.get(
    '/',
    {
      schema: {
        security: [],
        description: 'The version document, as Cyborg serves it',
        response: {
          200: z.object({
            id: z.string(),
            min_version: z.string(),
            max_version: z.string(),
            status: z.string(),
            links: z.array(z.object({ href: z.string(), rel: z.string() })),
          }),
        },
      },
    },
    async (request) => ({
      id: 'v2.0',
      min_version: `2.${MIN_MINOR}`,
      max_version: `2.${MAX_MINOR}`,
      status: 'CURRENT',
      links: [{ href: `${baseUrl(request)}/v2`, rel: 'self' }],
    }),
  )
  await app.register(deviceProfileRoutes)
  await app.register(acceleratorRequestRoutes)
  await app.register(inventoryRoutes)
}

export default v2Routes
