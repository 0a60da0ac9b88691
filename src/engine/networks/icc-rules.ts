/**
 * Inter-container communication off (`com.docker.network.bridge.enable_icc=false`, daemon `icc:
 * false`): netavark has no such option, so berthd adds Docker's own rule, a DROP of traffic
 * between two ports of the bridge (br_netfilter hands bridged frames to iptables' FORWARD), above
 * netavark's ACCEPTs, and for each --link an ACCEPT of the pair above that. Rules are added once
 * (checked with -C) and deleted when their bridge or link goes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

async function iptables(args: string[]): Promise<boolean> {
  try {
    await run('iptables', ['-w', ...args], { env: ENV });
    return true;
  } catch {
    return false;
  }
}

async function ensureFirst(rule: string[]): Promise<void> {
  if (!(await iptables(['-C', 'FORWARD', ...rule]))) await iptables(['-I', 'FORWARD', '1', ...rule]);
}

async function remove(rule: string[]): Promise<void> {
  while (await iptables(['-D', 'FORWARD', ...rule])) {
    // a rule added twice by a race goes entirely
  }
}

const isolation = (bridge: string) => ['-i', bridge, '-o', bridge, '-m', 'comment', '--comment', `berth icc off ${bridge}`, '-j', 'DROP'];
const linkRule = (bridge: string, from: string, to: string) => ['-i', bridge, '-o', bridge, '-s', from, '-d', to, '-m', 'comment', '--comment', `berth link ${bridge}`, '-j', 'ACCEPT'];

export function isolateBridge(bridge: string): Promise<void> {
  return ensureFirst(isolation(bridge));
}

export function unisolateBridge(bridge: string): Promise<void> {
  return remove(isolation(bridge));
}

/** Both directions between a linking container and the one it links to. */
export async function allowLink(bridge: string, a: string, b: string): Promise<void> {
  await ensureFirst(linkRule(bridge, a, b));
  await ensureFirst(linkRule(bridge, b, a));
}

export async function removeLink(bridge: string, a: string, b: string): Promise<void> {
  await remove(linkRule(bridge, a, b));
  await remove(linkRule(bridge, b, a));
}
