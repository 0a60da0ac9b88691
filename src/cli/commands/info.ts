import { Command } from 'commander';
import type { SystemInfo } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { executeTemplate, parseTemplate } from '../format/go-template.js';
import { binarySize } from '../format/size.js';

export function infoCommand(ctx: CliContext): Command {
  return new Command('info')
    .description('Display system-wide information')
    .option('-f, --format <format>', "Format output using a Go template ('json', '{{.ServerVersion}}')")
    .action(async (flags: { format?: string }) => {
      const info = await ctx.client().info();
      if (flags.format === undefined) {
        ctx.stdout.write(serverInfo(info));
        return;
      }
      // docker's template data: the daemon's fields at the top, the client's under ClientInfo.
      const data = { ...info, ClientInfo: { Debug: false, Context: 'default', Plugins: [], Warnings: null } };
      const template = parseTemplate(flags.format === 'json' ? '{{json .}}' : flags.format);
      ctx.stdout.write(`${executeTemplate(template, data)}\n`);
    });
}

/** The Server section of `docker info`, for the fields Berth's daemon reports. */
export function serverInfo(info: SystemInfo): string {
  const lines = [
    'Server:',
    ` Containers: ${info.Containers}`,
    `  Running: ${info.ContainersRunning}`,
    `  Paused: ${info.ContainersPaused}`,
    `  Stopped: ${info.ContainersStopped}`,
    ` Images: ${info.Images}`,
    ` Server Version: ${info.ServerVersion ?? ''}`,
    ` Storage Driver: ${info.Driver}`,
    ...(info.DriverStatus ?? []).map(([key, value]) => `  ${key}: ${value}`),
    ` Logging Driver: ${info.LoggingDriver ?? ''}`,
    ` Cgroup Driver: ${info.CgroupDriver ?? ''}`,
    ` Cgroup Version: ${info.CgroupVersion ?? ''}`,
    ` Runtimes: ${Object.keys(info.Runtimes ?? {}).join(' ')}`,
    ` Default Runtime: ${info.DefaultRuntime ?? ''}`,
    ` Kernel Version: ${info.KernelVersion ?? ''}`,
    ` Operating System: ${info.OperatingSystem ?? ''}`,
    ` OSType: ${info.OSType ?? ''}`,
    ` Architecture: ${info.Architecture ?? ''}`,
    ` CPUs: ${info.NCPU ?? 0}`,
    ` Total Memory: ${binarySize(info.MemTotal ?? 0)}`,
    ` Name: ${info.Name ?? ''}`,
    ` ID: ${info.ID}`,
    ` Docker Root Dir: ${info.DockerRootDir ?? ''}`,
  ];
  const warnings = info.Warnings ?? [];
  return [...lines, ...(warnings.length > 0 ? ['', ...warnings] : [])].map((line) => `${line}\n`).join('');
}
