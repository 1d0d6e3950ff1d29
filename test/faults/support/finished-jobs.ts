import type { Job, Queue } from 'bullmq'

export type FinishedState = 'completed' | 'failed'

/** Every job of `queue` that has finished, completed or failed, read a thousand at a time. */
export async function finishedJobs(queue: Queue): Promise<{ job: Job; state: FinishedState }[]> {
  const finished: { job: Job; state: FinishedState }[] = []
  for (const state of ['completed', 'failed'] as const) {
    for (let start = 0; ; start += 1000) {
      const jobs = await queue.getJobs([state], start, start + 999, true)
      finished.push(...jobs.map((job) => ({ job, state })))
      if (jobs.length < 1000) break
    }
  }
  return finished
}
