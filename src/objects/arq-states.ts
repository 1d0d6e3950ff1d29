import type { ArqState } from '../queues/contract/views.ts'

/**
 * Which states an ARQ may enter each state from: Cyborg's ARQ_STATES_TRANSFORM_MATRIX
 * (cyborg/common/constants.py), plus the state Cyborg declares but never enters: UnbindFailed, when
 * the attach handle of a Bound ARQ is gone at unbind. Deleting is entered by every delete.
 */
export const ARQ_TRANSITIONS: Record<ArqState, readonly ArqState[]> = {
  Initial: [],
  BindStarted: ['Initial', 'Unbound'],
  Bound: ['BindStarted'],
  BindFailed: ['BindStarted', 'Bound'],
  Unbound: ['Initial', 'BindStarted', 'Bound', 'BindFailed', 'UnbindFailed'],
  UnbindFailed: ['Bound'],
  Deleting: ['Initial', 'BindStarted', 'Bound', 'Unbound', 'BindFailed', 'UnbindFailed'],
}

/** The states Nova's "resolved" query waits for: binding is over, one way or the other. */
export const RESOLVED_STATES: readonly ArqState[] = ['Bound', 'BindFailed', 'Deleting']
