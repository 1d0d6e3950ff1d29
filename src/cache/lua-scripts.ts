import { readdirSync, readFileSync } from 'node:fs'
import type { RedisConnection } from '../redis-connection.ts'

const LUA_DIR = new URL('./lua/', import.meta.url)

export type ScriptName = 'accept' | 'read' | 'prime' | 'takeBatch' | 'releaseBatch' | 'flushFailed' | 'forget'

type ScriptCommand = (...keysAndArgs: (string | number)[]) => Promise<unknown>

/**
 * The cache's Lua scripts, one committed file each, named like BullMQ's: `<name>-<number of keys>.lua`.
 * ioredis runs them by SHA and loads them again after a Redis restart; on a Redis Cluster it sends
 * each call to the node of its first key's slot (all keys of a call share one hash tag).
 */
export class LuaScripts {
  private readonly commands = new Map<string, ScriptCommand>()

  constructor(redis: RedisConnection) {
    for (const file of readdirSync(LUA_DIR)) {
      const match = /^(\w+)-(\d+)\.lua$/.exec(file)
      if (!match) continue
      const [, name, numberOfKeys] = match as unknown as [string, string, string]
      // A prefixed command name cannot shadow one of ioredis' own methods.
      const command = `conductor_${name}`
      redis.defineCommand(command, { numberOfKeys: Number(numberOfKeys), lua: readFileSync(new URL(file, LUA_DIR), 'utf8') })
      this.commands.set(name, (redis as unknown as Record<string, ScriptCommand>)[command]!.bind(redis))
    }
  }

  run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const command = this.commands.get(name)
    if (!command) throw new Error(`no Lua script ${name}-<keys>.lua in ${LUA_DIR.pathname}`)
    return command(...keys, ...args)
  }
}
