import { Command } from 'commander';
import type { SystemInfo } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { binarySize } from '../format/size.js';

export function infoCommand(ctx: CliContext): Command {
  return new Command('info').description('Display system-wide information').action(async () => {
    ctx.stdout.write(serverInfo(await ctx.client().info()));
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
