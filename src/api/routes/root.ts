import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { MAX_MINOR, MIN_MINOR } from '../plugins/microversion.ts'
import { baseUrl } from './v2/presenters.ts'

const version = z.object({
  id: z.string(),
  status: z.string(),
  min_version: z.string(),
  max_version: z.string(),
  links: z.array(z.object({ href: z.string(), rel: z.string() })),
})

/** `GET /`: the version document of cyborg/api/controllers/root.py, which version discovery (keystoneauth, openstacksdk) reads. */
const rootRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/',
    {
      schema: {
        security: [],
        description: "The API's versions, as Cyborg serves them at its root",
        response: { 200: z.object({ name: z.string(), description: z.string(), versions: z.array(version), default_version: version }) },
      },
    },
    async (request) => {
      const v2 = {
        id: 'v2',
        status: 'CURRENT',
        min_version: `2.${MIN_MINOR}`,
        max_version: `2.${MAX_MINOR}`,
        links: [{ href: `${baseUrl(request)}/v2`, rel: 'self' }],
      }
      return {
        name: 'OpenStack Cyborg API',
        description:
          'Cyborg is the OpenStack project for lifecycle management of hardware accelerators, such as GPUs, FPGAs, AI chips, security accelerators, etc.',
        versions: [v2],
        default_version: v2,
      }
    },
  )
}

export default rootRoutes
