import { z } from 'zod'

export const commandErrorCodes = ['invalid', 'not_found', 'conflict', 'illegal_transition', 'unresolved'] as const
export type CommandErrorCode = (typeof commandErrorCodes)[number]

/** The HTTP status Cyborg answers for each refusal; the result carries it so any producer can answer alike. */
export const commandErrorStatus: Record<CommandErrorCode, number> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  illegal_transition: 409,
  unresolved: 423,
}

/**
 * What a refused command completes with (it is the caller's mistake, not a failure of the conductor,
 * so the job is not failed). `reason` is `<code>: <message>`, the failed reason of contract version 1.
 */
export const commandRefusalSchema = z.object({
  error: z.object({
    code: z.enum(commandErrorCodes),
    status: z.int(),
    message: z.string(),
    reason: z.string(),
  }),
})
export type CommandRefusal = z.infer<typeof commandRefusalSchema>

/** A command refused for a reason of its own: invalid input, an unknown object, a conflict, a state it cannot leave. */
export class CommandError extends Error {
  override name = 'CommandError'

  constructor(
    readonly code: CommandErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`)
  }

  get status(): number {
    return commandErrorStatus[this.code]
  }

  toRefusal(): CommandRefusal {
    return { error: { code: this.code, status: this.status, message: this.detail, reason: this.message } }
  }

  /** The CommandError a command's result carries, if the command was refused. */
  static fromResult(result: unknown): CommandError | undefined {
    const refusal = commandRefusalSchema.safeParse(result)
    return refusal.success ? new CommandError(refusal.data.error.code, refusal.data.error.message) : undefined
  }
}
