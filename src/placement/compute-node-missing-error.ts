/**
 * The compute node's resource provider is not in Placement (yet): nova-compute has not started on the
 * host, or the host's nodename differs from its Cyborg hostname (PLACEMENT_NODE_NAMES). Retried; its
 * message is logged without a stack, since it is an expected state of a cloud coming up.
 */
export class ComputeNodeMissingError extends Error {
  override name = 'ComputeNodeMissingError'

  constructor(
    readonly hostname: string,
    readonly nodename: string,
  ) {
    super(
      `no compute node resource provider named ${JSON.stringify(nodename)} in Placement for host ${JSON.stringify(hostname)}: ` +
        'is nova-compute running there? (PLACEMENT_NODE_NAMES maps a host to its nodename when they differ)',
    )
  }
}
