/**
 * What networking leaves on the host, listed for before/after comparisons: bridges and veths,
 * berth's network namespaces and, for one daemon, firewall rules naming its addresses (its /20)
 * and aardvark-dns processes serving its exec root.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { TestDaemon } from './berthd.js';

const run = promisify(execFile);

export interface HostNetworkState {
  /** Bridge and veth interfaces by name. */
  links: string[];
  /** Network namespaces named berth-<container id>. */
  netns: string[];
  /** iptables rules that name an address of the daemon's block. */
  ownRules: string[];
  /** aardvark-dns processes of the daemon. */
  ownNameServers: string[];
}

async function linksOfType(type: string): Promise<string[]> {
  const { stdout } = await run('ip', ['-o', 'link', 'show', 'type', type]);
  return stdout.split('\n').filter(Boolean).map((line) => line.split(': ')[1].split('@')[0]);
}

/** A regex matching the addresses of a 10.a.b.0/20 block. */
function blockPattern(block: string): RegExp {
  const [, a, b] = block.split('.').map(Number);
  const thirds = Array.from({ length: 16 }, (_, i) => b + i).join('|');
  return new RegExp(`\\b10\\.${a}\\.(${thirds})\\.`);
}

export async function hostNetworkState(daemon?: TestDaemon): Promise<HostNetworkState> {
  const links = [...(await linksOfType('bridge')), ...(await linksOfType('veth'))].sort();
  const netns = (await readdir('/run/netns').catch(() => [] as string[])).filter((n) => n.startsWith('berth-')).sort();
  if (!daemon) return { links, netns, ownRules: [], ownNameServers: [] };
  const pattern = blockPattern(daemon.network.block);
  const rules = (await run('iptables-save')).stdout.split('\n').filter((line) => pattern.test(line));
  const ownNameServers: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('aardvark-dns') && cmdline.includes(daemon.execRoot)) ownNameServers.push(cmdline.replace(/\0/g, ' '));
  }
  return { links, netns, ownRules: rules, ownNameServers };
}
