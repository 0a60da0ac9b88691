import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliExit } from '../cli-exit.js';

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: from inspect's NetworkSettings.Ports, as docker prints them. */
export function portCommand(ctx: CliContext): Command {
  return new Command('port')
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>')
    .argument('[private-port]')
    .action(async (container: string, privatePort: string | undefined) => {
      const info = await ctx.client().inspectContainer(container);
      const ports = info.NetworkSettings.Ports ?? {};
      if (privatePort !== undefined) {
        const key = privatePort.includes('/') ? privatePort : `${privatePort}/tcp`;
        const bindings = ports[key];
        if (!bindings?.length) throw new CliExit(1, `Error: No public port '${key}' published for ${container}`);
        for (const b of bindings) ctx.stdout.write(`${b.HostIp}:${b.HostPort}\n`);
        return;
      }
      const keys = Object.keys(ports).sort((a, b) => Number.parseInt(a) - Number.parseInt(b) || a.localeCompare(b));
      for (const key of keys) for (const b of ports[key] ?? []) ctx.stdout.write(`${key} -> ${b.HostIp}:${b.HostPort}\n`);
    });
}
