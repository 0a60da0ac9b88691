import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { collect } from '../option-values.js';

interface ConnectFlags {
  alias?: string[];
  ip?: string;
  ip6?: string;
  link?: string[];
  linkLocalIp?: string[];
  driverOpt?: string[];
  gwPriority?: string;
}

export function networkConnectCommand(ctx: CliContext): Command {
  return new Command('connect')
    .description('Connect a container to a network')
    .option('--alias <strings>', 'Add network-scoped alias for the container', collect)
    .option('--driver-opt <strings>', 'driver options for the network', collect)
    .option('--gw-priority <int>', 'Highest gw-priority provides the default gateway. Accepts positive and negative values.')
    .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
    .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")')
    .option('--link <list>', 'Add link to another container', collect)
    .option('--link-local-ip <strings>', 'Add a link-local address for the container', collect)
    .argument('<network>')
    .argument('<container>')
    .action(async (network: string, container: string, flags: ConnectFlags) => {
      await ctx.client().connectNetwork(network, {
        Container: container,
        EndpointConfig: {
          ...(flags.alias && { Aliases: flags.alias }),
          ...((flags.ip || flags.ip6 || flags.linkLocalIp) && {
            IPAMConfig: {
              ...(flags.ip && { IPv4Address: flags.ip }),
              ...(flags.ip6 && { IPv6Address: flags.ip6 }),
              ...(flags.linkLocalIp && { LinkLocalIPs: flags.linkLocalIp }),
            },
          }),
          ...(flags.link && { Links: flags.link }),
          ...(flags.driverOpt && { DriverOpts: Object.fromEntries(flags.driverOpt.map((o) => o.split('=', 2))) }),
          ...(flags.gwPriority && { GwPriority: Number(flags.gwPriority) }),
        },
      });
    });
}

export function networkDisconnectCommand(ctx: CliContext): Command {
  return new Command('disconnect')
    .description('Disconnect a container from a network')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .argument('<network>')
    .argument('<container>')
    .action(async (network: string, container: string, flags: { force?: boolean }) => {
      await ctx.client().disconnectNetwork(network, container, flags.force ?? false);
    });
}
