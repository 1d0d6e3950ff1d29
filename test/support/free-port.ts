import { createServer } from 'node:net'

/** A loopback port nobody listens on now (and, with `alsoFree`, the one at that offset too). */
export async function freePort(alsoFree?: number): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    if ((await isFree(port)) && (alsoFree === undefined || (await isFree(port + alsoFree)))) return port
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
