import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliExit } from '../cli-exit.js';
import { collect } from '../option-values.js';

interface CreateFlags {
  driver: string;
  subnet?: string[];
  gateway?: string[];
  ipRange?: string[];
  internal?: boolean;
  attachable?: boolean;
  ingress?: boolean;
  ipv4: string;
  ipv6?: boolean;
  label?: string[];
  opt?: string[];
  ipamDriver?: string;
  ipamOpt?: string[];
  scope?: string;
  configOnly?: boolean;
  configFrom?: string;
}

const keyValues = (entries: string[] | undefined) =>
  Object.fromEntries((entries ?? []).map((entry) => {
    const at = entry.indexOf('=');
    return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
  }));

/** `network create`: prints the new network's id. --gateway/--ip-range go with the --subnet they follow, as docker pairs them. */
export function networkCreateCommand(ctx: CliContext): Command {
  return new Command('create')
    .description('Create a network')
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect)
    .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', collect)
    .option('--ip-range <strings>', 'Allocate container ip from a sub-range', collect)
    .option('--internal', 'Restrict external access to the network')
    .option('--attachable', 'Enable manual container attachment')
    .option('--ingress', 'Create swarm routing-mesh network')
    .option('--ipv4 <bool>', 'Enable or disable IPv4 address assignment', 'true')
    .option('--ipv6', 'Enable or disable IPv6 networking')
    .option('--label <list>', 'Set metadata on a network', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
    .option('--ipam-opt <map>', 'Set IPAM driver specific options', collect)
    .option('--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', collect)
    .option('--scope <string>', "Control the network's scope")
    .option('--config-only', 'Create a configuration only network')
    .option('--config-from <string>', 'The network from which to copy the configuration')
    .argument('<network>')
    .action(async (name: string, flags: CreateFlags) => {
      const subnets = flags.subnet ?? [];
      if ((flags.gateway?.length ?? 0) > subnets.length || (flags.ipRange?.length ?? 0) > subnets.length) {
        throw new CliExit(1, 'Error: every --gateway and --ip-range needs a --subnet');
      }
      const { Id } = await ctx.client().createNetwork({
        Name: name,
        Driver: flags.driver,
        Internal: flags.internal ?? false,
        Attachable: flags.attachable ?? false,
        Ingress: flags.ingress ?? false,
        EnableIPv4: flags.ipv4 !== 'false',
        EnableIPv6: flags.ipv6 ?? false,
        Scope: flags.scope ?? '',
        ConfigOnly: flags.configOnly ?? false,
        ...(flags.configFrom && { ConfigFrom: { Network: flags.configFrom } }),
        IPAM: {
          Driver: flags.ipamDriver,
          Options: keyValues(flags.ipamOpt),
          Config: subnets.map((Subnet, i) => ({ Subnet, ...(flags.ipRange?.[i] && { IPRange: flags.ipRange[i] }), ...(flags.gateway?.[i] && { Gateway: flags.gateway[i] }) })),
        },
        Options: keyValues(flags.opt),
        Labels: keyValues(flags.label),
      });
      ctx.stdout.write(`${Id}\n`);
    });
}
