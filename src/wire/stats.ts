/** Docker Engine API v1.50 wire shapes for `GET /containers/{id}/stats` (moby's container.StatsResponse). */

export interface CpuStatsWire {
  cpu_usage: {
    total_usage: number;
    /** v1 only; left out when empty. */
    percpu_usage?: number[];
    usage_in_kernelmode: number;
    usage_in_usermode: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface BlkioEntryWire {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface NetworkStatsWire {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

export interface StatsResponse {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: BlkioEntryWire[] | null;
    io_serviced_recursive: BlkioEntryWire[] | null;
    io_queue_recursive: BlkioEntryWire[] | null;
    io_service_time_recursive: BlkioEntryWire[] | null;
    io_wait_time_recursive: BlkioEntryWire[] | null;
    io_merged_recursive: BlkioEntryWire[] | null;
    io_time_recursive: BlkioEntryWire[] | null;
    sectors_recursive: BlkioEntryWire[] | null;
  };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStatsWire;
  precpu_stats: CpuStatsWire;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; limit?: number };
  networks?: Record<string, NetworkStatsWire>;
}

/** `GET /containers/{id}/top` (moby's container.TopResponse). */
export interface TopResponse {
  Titles: string[];
  Processes: string[][];
}
