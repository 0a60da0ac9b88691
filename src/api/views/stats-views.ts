/** Runtime samples in Docker's stats JSON (omitempty fields left out where moby leaves them out). */
import { ZERO_TIME } from '../../engine/containers/model.js';
import type { StatsFrame } from '../../engine/containers/usage-service.js';
import type { RuntimeStats } from '../../runtime/container-runtime.js';
import type { CpuStatsWire, StatsResponse } from '../../wire/stats.js';

function cpuStats(sample: RuntimeStats | undefined): CpuStatsWire {
  const cpu = sample?.cpu;
  return {
    cpu_usage: {
      total_usage: cpu?.totalNs ?? 0,
      ...(cpu && cpu.perCpuNs.length > 0 ? { percpu_usage: cpu.perCpuNs } : {}),
      usage_in_kernelmode: cpu?.systemNs ?? 0,
      usage_in_usermode: cpu?.userNs ?? 0,
    },
    ...(cpu?.systemUsageNs ? { system_cpu_usage: cpu.systemUsageNs } : {}),
    ...(cpu?.onlineCpus ? { online_cpus: cpu.onlineCpus } : {}),
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

function nonZero<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value ? ({ [key]: value } as Record<K, number>) : {};
}

export function statsResponse({ record, current, previous }: StatsFrame): StatsResponse {
  const networks = current && Object.keys(current.networks).length > 0 ? current.networks : undefined;
  return {
    name: record.name,
    id: record.id,
    read: current?.read.toISOString() ?? ZERO_TIME,
    preread: previous?.read.toISOString() ?? ZERO_TIME,
    pids_stats: { ...nonZero('current', current?.pids.current), ...nonZero('limit', current?.pids.limit) },
    blkio_stats: {
      io_service_bytes_recursive: current && current.blkio.length > 0 ? current.blkio : null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(current),
    precpu_stats: cpuStats(previous),
    memory_stats: current
      ? {
          ...nonZero('usage', current.memory.usage),
          ...nonZero('max_usage', current.memory.maxUsage),
          ...(Object.keys(current.memory.stats).length > 0 ? { stats: current.memory.stats } : {}),
          ...nonZero('limit', current.memory.limit),
        }
      : {},
    ...(networks && {
      networks: Object.fromEntries(
        Object.entries(networks).map(([name, n]) => [
          name,
          {
            rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped,
            tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped,
          },
        ]),
      ), // prettier-ignore
    }),
  };
}
