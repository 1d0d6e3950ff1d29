import { readdirSync, readFileSync } from 'node:fs'
import type { RedisConnection } from './connection.ts'

export type ScriptName = 'accept' | 'read' | 'prime' | 'takeBatch' | 'releaseBatch' | 'flushFailed' | 'forget'

/**
 * The folders of the committed scripts: the write path's (buffer) and the read path's (cache). Read
 * from the source tree whether this module runs from src/ or compiled in dist/ (one level down from
 * the root either way): tsc copies no .lua file, and the scripts are source, not build output.
 */
const LUA_DIRS = [new URL('../../src/buffer/lua/', import.meta.url), new URL('../../src/cache/lua/', import.meta.url)]

type ScriptCommand = (...keysAndArgs: (string | number)[]) => Promise<unknown>

/**
 * The conductor's Lua scripts, one committed file each, named like BullMQ's: `<name>-<number of keys>.lua`.
 * ioredis runs them by SHA and loads them again after a Redis restart; on a Redis Cluster it sends
 * each call to the node of its first key's slot (all keys of a call share one hash tag).
 */
export class LuaScripts {
  private readonly commands = new Map<string, ScriptCommand>()

  constructor(redis: RedisConnection) {
    for (const dir of LUA_DIRS) this.defineAll(redis, dir)
  }

  private defineAll(redis: RedisConnection, dir: URL): void {
    for (const file of readdirSync(dir)) {
      const match = /^(\w+)-(\d+)\.lua$/.exec(file)
      if (!match) continue
      const [, name, numberOfKeys] = match as unknown as [string, string, string]
      // A prefixed command name cannot shadow one of ioredis' own methods.
      const command = `conductor_${name}`
      redis.defineCommand(command, { numberOfKeys: Number(numberOfKeys), lua: readFileSync(new URL(file, dir), 'utf8') })
      this.commands.set(name, (redis as unknown as Record<string, ScriptCommand>)[command]!.bind(redis))
    }
  }

  run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.runPacked(name, [...keys, ...args])
  }

  /** `run` with the keys and arguments already in one array (the hot path builds it once, without copies). */
  runPacked(name: ScriptName, keysAndArgs: (string | number)[]): Promise<unknown> {
    const command = this.commands.get(name)
    if (!command) throw new Error(`no Lua script ${name}-<keys>.lua in ${LUA_DIRS.map((dir) => dir.pathname).join(' or ')}`)
    return command(...keysAndArgs)
  }
}
