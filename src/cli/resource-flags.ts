/**
 * The resource-limit flags `run`, `create` and `update` share, as the docker CLI names and parses
 * them, and the HostConfig Resources fields they set (zeros when not given, as docker sends).
 */
import { Option, type Command } from 'commander';
import type { ContainerUpdateRequest } from '../client/index.js';
import { integer } from './option-values.js';
import { int64, memorySwapBytes, nanoCpus, ramInBytes } from './run-option-values.js';

export interface ResourceFlags {
  blkioWeight?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  cpus?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: number;
  memoryReservation?: number;
  memorySwap?: number;
  pidsLimit?: number;
}

export function addResourceFlags(command: Command): Command {
  return command
    .addOption(new Option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable').argParser(integer))
    .addOption(new Option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period').argParser(int64))
    .addOption(new Option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota').argParser(int64))
    .addOption(new Option('-c, --cpu-shares <int>', 'CPU shares (relative weight)').argParser(int64))
    .addOption(new Option('--cpus <decimal>', 'Number of CPUs').argParser(nanoCpus))
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .addOption(new Option('-m, --memory <bytes>', 'Memory limit').argParser(ramInBytes))
    .addOption(new Option('--memory-reservation <bytes>', 'Memory soft limit').argParser(ramInBytes))
    .addOption(new Option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap").argParser(memorySwapBytes))
    .addOption(new Option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)').argParser(int64));
}

export function resourceRequest(flags: ResourceFlags): ContainerUpdateRequest {
  return {
    BlkioWeight: flags.blkioWeight ?? 0,
    CpuPeriod: flags.cpuPeriod ?? 0,
    CpuQuota: flags.cpuQuota ?? 0,
    CpuShares: flags.cpuShares ?? 0,
    NanoCpus: flags.cpus ?? 0,
    CpusetCpus: flags.cpusetCpus ?? '',
    CpusetMems: flags.cpusetMems ?? '',
    Memory: flags.memory ?? 0,
    MemoryReservation: flags.memoryReservation ?? 0,
    MemorySwap: flags.memorySwap ?? 0,
    ...(flags.pidsLimit === undefined ? {} : { PidsLimit: flags.pidsLimit }),
  };
}
