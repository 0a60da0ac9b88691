/**
 * Networks with the real docker CLI against berthd, real containers and real traffic (only to
 * loopback, the daemon's own bridges and a test network namespace): the default bridge,
 * user-defined networks with discovery by name, alias and short id, isolation, published ports
 * (TCP and UDP, from the host, hairpin, from another namespace), the modes, bad input, a daemon
 * killed and restarted with a live container, and nothing left behind.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { docker as dockerCli } from '../helpers/docker-cli.js';
import { hostNetworkState, type HostNetworkState } from '../helpers/host-network.js';

const run = promisify(execFile);

/** The nat chains netavark names after a network (berthd gives it the network's id as its name): the first 13 hex of its SHA-512. */
function netavarkChainsOf(networkId: string): string[] {
  const hash = createHash('sha512').update(networkId).digest('hex').toUpperCase().slice(0, 13);
  return [`NETAVARK-${hash}`, `NETAVARK-DN-${hash}`];
}

/** Which of these chains the nat table has. */
async function natChains(names: string[]): Promise<string[]> {
  const { stdout } = await run('iptables', ['-w', '-t', 'nat', '-S']);
  return names.filter((name) => stdout.split('\n').includes(`-N ${name}`));
}

describe('networks (docker CLI)', { timeout: 280_000 }, () => {
  let daemon: TestDaemon;
  let baseline: HostNetworkState;
  /** The /24s of the daemon's /20 that tests give networks explicitly (the first is the default bridge's). */
  let subnet: (n: number) => string;
  let third: (n: number) => string;

  const docker = async (...args: string[]) => {
    const result = await dockerCli(daemon, args);
    if (result.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout.trim();
  };
  const dockerFails = (...args: string[]) => dockerCli(daemon, args);
  const inspect = async (name: string) => JSON.parse(await docker('inspect', name))[0];

  before(async () => {
    baseline = await hostNetworkState();
    daemon = await startDaemon();
    await daemon.berth(['image', 'busybox']);
    const [a, b] = daemon.network.block.split('.').slice(1, 3).map(Number);
    third = (n: number) => `10.${a}.${b + n}`;
    subnet = (n: number) => `${third(n)}.0/24`;
  });

  // A failed test leaves nothing for the next: its containers and networks go.
  afterEach(async () => {
    const ids = (await docker('ps', '-aq')).split('\n').filter(Boolean);
    if (ids.length > 0) await docker('rm', '-f', ...ids);
    await docker('network', 'prune', '-f');
  });

  after(async () => {
    await daemon?.stop();
  });

  test('the default bridge: an address of bip, a route out, /etc/hosts with its own address, resolv.conf without loopback servers', async () => {
    const gateway = daemon.network.bip.split('/')[0];
    const out = await docker('run', '--rm', '--hostname', 'box', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; ip route; cat /etc/hosts; cat /etc/resolv.conf');
    assert.match(out, new RegExp(`inet ${third(0).replace(/\./g, '\\.')}\\.\\d+/24`));
    assert.match(out, new RegExp(`default via ${gateway.replace(/\./g, '\\.')}`));
    assert.match(out, new RegExp(`${third(0).replace(/\./g, '\\.')}\\.\\d+\\tbox`));
    assert.doesNotMatch(out, /nameserver 127\./);
    await docker('run', '-d', '--name', 'plain', 'busybox', 'sleep', '300');
    const info = await inspect('plain');
    assert.equal(info.HostConfig.NetworkMode, 'default');
    assert.equal(info.NetworkSettings.Gateway, gateway);
    assert.equal(info.NetworkSettings.Networks.bridge.IPAddress, info.NetworkSettings.IPAddress);
    // Numbered as on docker0: .2 went to the first run, .3 to this one; the bridge's keeper took the
    // subnet's last address, not one of theirs.
    assert.equal(info.NetworkSettings.IPAddress, `${third(0)}.3`);
    assert.match(info.NetworkSettings.MacAddress, /^02:42:/);
    // Reachable from the host at its address.
    await run('busybox', ['ping', '-c1', '-W2', info.NetworkSettings.IPAddress]);
    // Joining the bridge while it is up: plugged in with iproute2 (its host end named after it),
    // not by netavark, with the same address, route and reach; IPv6 autoconf off as netavark sets it.
    await docker('run', '-d', '--name', 'joined', 'busybox', 'sleep', '300');
    const joinedId = (await inspect('joined')).Id as string;
    assert.match((await run('ip', ['-o', 'link', 'show', 'master', daemon.network.bridge])).stdout, new RegExp(`: veth${joinedId.slice(0, 10)}0@`));
    const joined = await docker('exec', 'joined', 'sh', '-c', `ip -4 -o addr show eth0; ip route; ping -c1 -W2 ${info.NetworkSettings.IPAddress} >/dev/null && echo reached; cat /proc/sys/net/ipv6/conf/eth0/autoconf 2>/dev/null || echo no-ipv6`);
    assert.match(joined, new RegExp(`inet ${third(0).replace(/\./g, '\\.')}\\.\\d+/24 brd`));
    assert.match(joined, new RegExp(`default via ${gateway.replace(/\./g, '\\.')} dev eth0`));
    assert.match(joined, /^reached$/m);
    assert.match(joined, /^(0|no-ipv6)$/m);
    await docker('rm', '-f', 'joined');
    const members = JSON.parse(await docker('network', 'inspect', 'bridge'))[0];
    assert.equal(members.Containers[info.Id].Name, 'plain');
    assert.equal(members.Options['com.docker.network.bridge.name'], daemon.network.bridge);
    await docker('rm', '-f', 'plain');
    assert.deepEqual(JSON.parse(await docker('network', 'inspect', 'bridge'))[0].Containers, {}, 'the keeper is no container of it');
    // The bridge stays up with no container on it (its keeper holds it, as docker0 stays up): the
    // next container finds it up and is plugged in with iproute2, not made anew by netavark.
    assert.ok((await hostNetworkState(daemon)).links.includes(daemon.network.bridge), 'the default bridge is kept up');
    await docker('run', '-d', '--name', 'after', 'busybox', 'sleep', '300');
    const afterId = (await inspect('after')).Id as string;
    assert.match((await run('ip', ['-o', 'link', 'show', 'master', daemon.network.bridge])).stdout, new RegExp(`: veth${afterId.slice(0, 10)}0@`));
    await docker('rm', '-f', 'after');
  });

  test('a user-defined network: discovery by name, alias and short id; static --ip; removed containers stop resolving', async () => {
    const since = Math.floor(Date.now() / 1000);
    const id = await docker('network', 'create', '--subnet', subnet(1), '--label', 'tier=back', 'appnet');
    const net = JSON.parse(await docker('network', 'inspect', 'appnet'))[0];
    assert.equal(net.Id, id);
    assert.deepEqual(net.IPAM.Config, [{ Subnet: subnet(1), Gateway: `${third(1)}.1` }]);
    assert.deepEqual(net.Labels, { tier: 'back' });
    assert.match(await docker('network', 'ls', '--filter', 'label=tier=back', '--format', '{{.Name}} {{.Driver}}'), /^appnet bridge$/);
    await docker('run', '-d', '--name', 'db', '--network', 'appnet', '--network-alias', 'database', '--ip', `${third(1)}.50`, 'busybox', 'sh', '-c', 'while true; do echo from-db | nc -l -p 5000; done');
    const dbId = (await inspect('db')).Id as string;
    assert.equal((await inspect('db')).NetworkSettings.Networks.appnet.IPAddress, `${third(1)}.50`);
    const lookups = await docker('run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', `for n in db database ${dbId.slice(0, 12)}; do nslookup $n | grep -c "${third(1)}.50"; done; nc db 5000`);
    assert.deepEqual(lookups.split('\n'), ['1', '1', '1', 'from-db']);
    // A name outside the network's goes to the host's resolvers (here: none answers), never to a container.
    const taken = await dockerFails('run', '--rm', '--network', 'appnet', '--ip', `${third(1)}.50`, 'busybox', 'true');
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /Address already in use/);
    await docker('rm', '-f', 'db');
    const gone = await docker('run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', 'nslookup db >/dev/null 2>&1 && echo found || echo gone');
    assert.equal(gone, 'gone');
    await docker('network', 'rm', 'appnet');
    const events = await docker('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    assert.match(events, /create appnet[\s\S]*connect appnet[\s\S]*disconnect appnet[\s\S]*destroy appnet/);
  });

  test('--mac-address: the interface has it on the default bridge and on a user-defined network; inspect keeps it while stopped', async () => {
    assert.equal(await docker('run', '--rm', '--mac-address', '02:42:AC:11:0F:99', 'busybox', 'cat', '/sys/class/net/eth0/address'), '02:42:ac:11:0f:99');
    await docker('network', 'create', '--subnet', subnet(10), 'macnet');
    await docker('create', '--name', 'mac', '--network', 'macnet', '--mac-address', '92-d0-c6-0a-29-33', 'busybox', 'cat', '/sys/class/net/eth0/address');
    assert.equal((await inspect('mac')).NetworkSettings.Networks.macnet.MacAddress, '92:d0:c6:0a:29:33');
    assert.equal(await docker('start', '-a', 'mac'), '92:d0:c6:0a:29:33');
    assert.equal((await inspect('mac')).NetworkSettings.Networks.macnet.MacAddress, '92:d0:c6:0a:29:33', 'the address asked for stays after the run');
    const refused = await dockerFails('run', '--rm', '--network', 'host', '--mac-address', '92:d0:c6:0a:29:34', 'busybox', 'true');
    assert.match(refused.stderr, /conflicting options: mac-address and the network mode/);
    assert.match((await dockerFails('run', '--rm', '--mac-address', 'zz', 'busybox', 'true')).stderr, /zz is not a valid mac address/);
  });

  test('--link-local-ip: the interface has the addresses on the default bridge, on a user-defined network and after connect; inspect shows them; bad ones are refused', async () => {
    const addresses = (out: string) => out.split('\n').map((line) => line.trim().split(/\s+/)).filter((f) => f[0] === 'inet' || f[0] === 'inet6').map((f) => f[1]);
    const onBridge = await docker('run', '--rm', '--link-local-ip', '169.254.7.7', 'busybox', 'ip', 'addr', 'show', 'eth0');
    assert.ok(addresses(onBridge).includes('169.254.7.7/16'), onBridge);
    await docker('network', 'create', '--subnet', subnet(11), 'llnet');
    const withV6 = existsSync('/proc/net/if_inet6');
    await docker('create', '--name', 'll', '--network', 'llnet', '--link-local-ip', '169.254.8.8', ...(withV6 ? ['--link-local-ip', 'fe80::8:8'] : []), 'busybox', 'ip', 'addr', 'show', 'eth0');
    assert.deepEqual((await inspect('ll')).NetworkSettings.Networks.llnet.IPAMConfig.LinkLocalIPs, ['169.254.8.8', ...(withV6 ? ['fe80::8:8'] : [])]);
    const onUserNetwork = addresses(await docker('start', '-a', 'll'));
    assert.ok(onUserNetwork.includes('169.254.8.8/16'), onUserNetwork.join(' '));
    if (withV6) assert.ok(onUserNetwork.includes('fe80::8:8/64'), onUserNetwork.join(' '));
    await docker('run', '-d', '--name', 'llc', 'busybox', 'sleep', '300');
    await docker('network', 'connect', '--link-local-ip', '169.254.9.9', 'llnet', 'llc');
    assert.ok(addresses(await docker('exec', 'llc', 'ip', 'addr', 'show', 'eth1')).includes('169.254.9.9/16'));
    for (const bad of ['foo', '0.0.0.0', '::']) {
      assert.match((await dockerFails('run', '--rm', '--link-local-ip', bad, 'busybox', 'true')).stderr, new RegExp(`invalid link-local IP address: ${bad.replace(/\./g, '\\.')}`));
    }
  });

  test('connect and disconnect while running; several networks at once; isolation between networks; internal networks have no way out', async () => {
    await docker('network', 'create', '--subnet', subnet(2), 'front');
    await docker('network', 'create', '--subnet', subnet(3), 'back');
    await docker('network', 'create', '--internal', '--subnet', subnet(4), 'sealed');
    await docker('run', '-d', '--name', 'f1', '--network', 'front', 'busybox', 'sleep', '300');
    await docker('run', '-d', '--name', 'b1', '--network', 'back', 'busybox', 'sleep', '300');
    const b1 = (await inspect('b1')).NetworkSettings.Networks.back.IPAddress;
    const ping = (from: string, to: string) => dockerFails('exec', from, 'ping', '-c1', '-W1', to);
    assert.notEqual((await ping('f1', b1)).code, 0, 'containers on different networks cannot reach each other');
    await docker('network', 'connect', '--alias', 'f1-in-back', 'back', 'f1');
    const both = (await inspect('f1')).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(both).sort(), ['back', 'front']);
    assert.equal((await ping('f1', b1)).code, 0, 'connected: it reaches b1');
    assert.equal((await dockerFails('exec', 'b1', 'nslookup', 'f1-in-back')).code, 0);
    // Its /etc/hosts (a bind mount, rewritten in place) lists its address on each network.
    const f1 = await inspect('f1');
    const hostsLine = (ip: string) => new RegExp(`^${ip.replace(/\./g, '\\.')}\t${f1.Config.Hostname}$`, 'm');
    const connectedHosts = await docker('exec', 'f1', 'cat', '/etc/hosts');
    assert.match(connectedHosts, hostsLine(both.front.IPAddress));
    assert.match(connectedHosts, hostsLine(both.back.IPAddress));
    const twice = await dockerFails('network', 'connect', 'back', 'f1');
    assert.match(twice.stderr, /endpoint with name f1 already exists in network back/);
    await docker('network', 'disconnect', 'back', 'f1');
    assert.notEqual((await ping('f1', b1)).code, 0, 'disconnected: it no longer does');
    assert.deepEqual(Object.keys((await inspect('f1')).NetworkSettings.Networks), ['front']);
    assert.doesNotMatch(await docker('exec', 'f1', 'cat', '/etc/hosts'), hostsLine(both.back.IPAddress));
    const inUse = await dockerFails('network', 'rm', 'front');
    assert.match(inUse.stderr, /error while removing network: network front id [0-9a-f]{64} has active endpoints/);
    const sealed = await docker('run', '--rm', '--network', 'sealed', 'busybox', 'sh', '-c', 'ip route | grep -c default || true');
    assert.equal(sealed, '0');
    await docker('rm', '-f', 'f1', 'b1');
    assert.match(await docker('network', 'prune', '-f'), /back[\s\S]*front|front[\s\S]*back/);
    await docker('network', 'rm', 'sealed').catch(() => {});
  });

  test('published ports: TCP and UDP from the host, hairpin from a container, from another network namespace; -P; port in use', async () => {
    const port = await freePort();
    await docker('run', '-d', '--name', 'web', '-p', `${port}:5000`, '-p', `127.0.0.1:${port}:5001/udp`, '--expose', '6000', '-P', 'busybox', 'sh', '-c',
      'while true; do echo from-web | nc -l -p 5000; done & while true; do echo random | nc -l -p 6000; done');
    // busybox has no UDP server: one runs in the container's network namespace, from the host.
    const webId = (await inspect('web')).Id as string;
    const udpServer = spawn('ip', ['netns', 'exec', `berth-${webId}`, process.execPath, '-e',
      "const s=require('node:dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('udp-reply',r.port,r.address));s.bind(5001,()=>console.log('ready'))"]);
    await new Promise((resolve) => udpServer.stdout.once('data', resolve));
    const ports = await docker('port', 'web');
    assert.match(ports, new RegExp(`5000/tcp -> 0\\.0\\.0\\.0:${port}`));
    assert.match(ports, new RegExp(`5001/udp -> 127\\.0\\.0\\.1:${port}`));
    const random = Number(/6000\/tcp -> 0\.0\.0\.0:(\d+)/.exec(ports)?.[1]);
    assert.ok(random > 1024, ports);
    assert.equal((await run('busybox', ['nc', '127.0.0.1', String(port)])).stdout.trim(), 'from-web');
    assert.equal((await run('busybox', ['nc', '127.0.0.1', String(random)])).stdout.trim(), 'random');
    assert.equal(await udpExchange('127.0.0.1', port), 'udp-reply');
    udpServer.kill();
    const gateway = daemon.network.bip.split('/')[0];
    assert.equal(await docker('run', '--rm', 'busybox', 'nc', gateway, String(port)), 'from-web', 'hairpin: another container through the host address');
    assert.equal(await docker('exec', 'web', 'nc', gateway, String(port)), 'from-web', 'hairpin: the container itself');
    assert.equal(await fromRemote(third(15), port), 'from-web', 'from another network namespace');
    const summary = JSON.parse((await docker('ps', '--filter', 'name=web', '--format', '{{json .}}')).split('\n')[0]);
    assert.match(summary.Ports, new RegExp(`0\\.0\\.0\\.0:${port}->5000/tcp`));
    const clash = await dockerFails('run', '-d', '--name', 'clash', '-p', `${port}:80`, 'busybox', 'sleep', '60');
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, new RegExp(`failed to bind host port for 0\\.0\\.0\\.0:${port}:[\\d.]+:80/tcp: address already in use`));
    assert.equal((await inspect('clash')).State.Running, false);
    // A port a host process holds is refused the same way.
    const holder = createServer();
    const held = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
    const busy = await dockerFails('run', '--rm', '-p', `127.0.0.1:${held}:80`, 'busybox', 'true');
    holder.close();
    assert.match(busy.stderr, /address already in use/);
    await docker('rm', '-f', 'web', 'clash');
    assert.notEqual((await run('busybox', ['nc', '-w1', '127.0.0.1', String(port)]).catch((e) => e)).code, 0, 'the port is closed once the container is gone');
  });

  test('ICC off blocks traffic between containers of a network; --link: hosts entry and Docker\'s variables', async () => {
    await docker('network', 'create', '--subnet', subnet(9), '-o', 'com.docker.network.bridge.enable_icc=false', 'walled');
    await docker('run', '-d', '--name', 'w1', '--network', 'walled', 'busybox', 'sleep', '300');
    const w1 = (await inspect('w1')).NetworkSettings.Networks.walled.IPAddress;
    const blocked = await dockerFails('run', '--rm', '--network', 'walled', 'busybox', 'ping', '-c1', '-W1', w1);
    assert.notEqual(blocked.code, 0, 'ICC off: no traffic between two containers of the network');
    assert.equal((await dockerFails('run', '--rm', '--network', 'walled', 'busybox', 'ping', '-c1', '-W1', `${third(9)}.1`)).code, 0, 'the gateway answers');
    await docker('run', '-d', '--name', 'srv', '--expose', '5000', '-e', 'SECRET=s3', 'busybox', 'sh', '-c', 'while true; do echo linked | nc -l -p 5000; done');
    const srv = (await inspect('srv')).NetworkSettings.IPAddress;
    const out = await docker('run', '--rm', '--name', 'client', '--link', 'srv:db', 'busybox', 'sh', '-c', 'env | grep ^DB_ | sort; grep -w db /etc/hosts; nc db 5000');
    assert.match(out, new RegExp(`DB_ENV_SECRET=s3\nDB_NAME=/client/db\nDB_PORT=tcp://${srv.replace(/\./g, '\\.')}:5000\n`));
    assert.match(out, /DB_PORT_5000_TCP_ADDR=/);
    assert.match(out, new RegExp(`${srv.replace(/\./g, '\\.')}\tdb [0-9a-f]{12} srv`));
    assert.match(out, /linked$/);
  });

  test('berth network create/ls/inspect/connect/disconnect/prune/rm and berth port', async () => {
    const berth = async (...args: string[]) => (await daemon.berth(args)).stdout.trim();
    const id = await berth('network', 'create', '--subnet', subnet(10), '--label', 'via=berth', 'bnet');
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await berth('network', 'ls', '-f', 'label=via=berth', '--format', '{{.Name}} {{.Driver}} {{.Scope}}'), 'bnet bridge local');
    assert.equal(await berth('network', 'ls', '-q', '-f', 'name=bnet'), id.slice(0, 12));
    assert.equal(await berth('network', 'inspect', '-f', '{{.Name}} {{.Internal}}', 'bnet'), 'bnet false');
    const port = await freePort();
    await berth('run', '-d', '--name', 'bweb', '--network', 'bnet', '--network-alias', 'www', '--ip', `${third(10)}.20`, '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '300');
    assert.equal(await berth('port', 'bweb'), `80/tcp -> 127.0.0.1:${port}`);
    assert.equal(await berth('port', 'bweb', '80'), `127.0.0.1:${port}`);
    assert.equal(await berth('inspect', '-f', '{{.NetworkSettings.Networks.bnet.IPAddress}}', 'bweb'), `${third(10)}.20`);
    await berth('network', 'disconnect', 'bnet', 'bweb');
    assert.equal(await berth('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'bweb'), '{}');
    await berth('network', 'connect', '--alias', 'again', 'bnet', 'bweb');
    assert.match(await berth('run', '--rm', '--network', 'bnet', 'busybox', 'nslookup', 'again'), new RegExp(`Address: ${third(10)}\\.\\d+`));
    assert.equal((await daemon.berth(['network', 'rm', 'bnet'], { allowFailure: true })).code, 1);
    await berth('rm', '-f', 'bweb');
    assert.equal(await berth('network', 'prune', '-f'), 'Deleted Networks:\nbnet');
  });

  test('modes none, host and container:<name>', async () => {
    assert.equal(await docker('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net | tr "\\n" " "'), 'lo');
    const hostNs = await readlink('/proc/self/ns/net');
    assert.equal(await docker('run', '--rm', '--network', 'host', 'busybox', 'readlink', '/proc/self/ns/net'), hostNs);
    await docker('run', '-d', '--name', 'donor', 'busybox', 'sleep', '300');
    const donorNs = await docker('exec', 'donor', 'readlink', '/proc/self/ns/net');
    assert.equal(await docker('run', '--rm', '--network', 'container:donor', 'busybox', 'readlink', '/proc/self/ns/net'), donorNs);
    const conflict = await dockerFails('run', '--rm', '--network', 'container:donor', '-p', '80', 'busybox', 'true');
    assert.match(conflict.stderr, /conflicting options: port publishing and the container type network mode/);
    await docker('rm', '-f', 'donor');
  });

  test('bad input: Docker\'s errors and nothing changed', async () => {
    await docker('network', 'create', '--subnet', subnet(5), 'one');
    const overlap = await dockerFails('network', 'create', '--subnet', subnet(5), 'two');
    assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
    const same = await dockerFails('network', 'create', 'one');
    assert.match(same.stderr, /network with name one already exists/);
    const unknown = await dockerFails('run', '--rm', '--network', 'nosuch', 'busybox', 'true');
    assert.match(unknown.stderr, /network nosuch not found/);
    const outside = await dockerFails('run', '--rm', '--network', 'one', '--ip', '192.0.2.99', 'busybox', 'true');
    assert.match(outside.stderr, /no configured subnet or ip-range contain the IP address 192\.0\.2\.99/);
    const onDefault = await dockerFails('run', '--rm', '--ip', `${third(0)}.99`, 'busybox', 'true');
    assert.match(onDefault.stderr, /user specified IP address is supported on user defined networks only/);
    const predefined = await dockerFails('network', 'rm', 'bridge');
    assert.match(predefined.stderr, /bridge is a pre-defined network and cannot be removed/);
    const gateway = await dockerFails('network', 'create', '--subnet', subnet(6), '--gateway', `${third(7)}.1`, 'three');
    assert.match(gateway.stderr, /no matching subnet for gateway/); // the docker CLI's own check
    assert.deepEqual((await docker('network', 'ls', '--format', '{{.Name}}')).split('\n').sort(), ['bridge', 'host', 'none', 'one']);
    await docker('network', 'rm', 'one');
  });

  test('a kill -9 of berthd: the live container keeps its network; after removal nothing is left behind', async () => {
    await docker('network', 'create', '--subnet', subnet(8), 'durable');
    const port = await freePort();
    await docker('run', '-d', '--name', 'keeper', '--network', 'durable', '-p', `${port}:5000`, 'busybox', 'sh', '-c', 'while true; do echo kept | nc -l -p 5000; done');
    await docker('run', '-d', '--name', 'stopped-later', '--network', 'durable', 'busybox', 'sleep', '300');
    const before = (await inspect('keeper')).NetworkSettings.Networks.durable.IPAddress;
    daemon.process.kill('SIGKILL');
    await new Promise((r) => daemon.process.once('exit', r));
    await daemon.restart();
    assert.equal((await inspect('keeper')).NetworkSettings.Networks.durable.IPAddress, before);
    assert.equal((await run('busybox', ['nc', '127.0.0.1', String(port)])).stdout.trim(), 'kept');
    // Its address stays taken and its port held after the restart.
    const next = await docker('run', '--rm', '--network', 'durable', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0');
    assert.doesNotMatch(next, new RegExp(`${before.replace(/\./g, '\\.')}/`));
    assert.match((await dockerFails('run', '--rm', '-p', `${port}:80`, 'busybox', 'true')).stderr, /address already in use/);
    assert.equal(await docker('exec', 'stopped-later', 'nslookup', 'keeper').then((o) => /Address: /.test(o)), true);
    // The one with the port first: netavark's teardown of the last one, which has none, leaves the
    // network's port chain (NETAVARK-DN-<hash>) behind unless berthd removes it.
    const chains = netavarkChainsOf((await inspect('keeper')).NetworkSettings.Networks.durable.NetworkID);
    assert.notDeepEqual(await natChains(chains), [], 'the network has its chains while it has containers');
    await docker('rm', '-f', 'keeper');
    await docker('rm', '-f', 'stopped-later');
    await docker('network', 'rm', 'durable');
    assert.deepEqual(await natChains(chains), [], 'no nat chain of the network is left');
    // The default bridge stays up while berthd runs (its keeper holds it, as docker0 stays up);
    // a daemon that stops with no container running takes it and its rules away.
    const stopped = new Promise((r) => daemon.process.once('exit', r));
    daemon.process.kill('SIGTERM');
    await stopped;
    const now = await hostNetworkState(daemon);
    assert.deepEqual(now.links, baseline.links, 'no bridge or veth left');
    assert.deepEqual(now.netns, baseline.netns);
    assert.deepEqual(now.ownRules, [], 'no firewall rule names the daemon\'s subnets');
    assert.deepEqual(now.ownNameServers, [], 'no aardvark-dns of this daemon runs');
    await daemon.restart();
  });
});

describe('published ports obeying the host firewall (published-ports-obey-host-firewall)', { timeout: 120_000 }, () => {
  test('an INPUT rule that drops the port closes it to another namespace; removing the rule opens it again', async () => {
    const daemon = await startDaemon({ args: ['--published-ports-obey-host-firewall'] });
    const port = await freePort();
    const drop = ['INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'DROP'];
    try {
      await daemon.berth(['image', 'busybox']);
      await daemon.berth(['run', '-d', '--name', 'guarded', '-p', `${port}:5000`, 'busybox', 'sh', '-c', 'while true; do echo guarded | nc -l -p 5000; done']);
      const [a, b] = daemon.network.block.split('.').slice(1, 3).map(Number);
      const remote = `10.${a}.${b + 15}`;
      assert.equal(await fromRemote(remote, port), 'guarded');
      await run('iptables', ['-w', '-I', ...drop]);
      assert.equal(await fromRemote(remote, port).catch(() => 'closed'), 'closed');
      await run('iptables', ['-w', '-D', ...drop]);
      assert.equal(await fromRemote(remote, port), 'guarded');
      assert.equal((await daemon.berth(['port', 'guarded'])).stdout.trim(), `5000/tcp -> 0.0.0.0:${port}`);
      assert.equal((await run('busybox', ['nc', '127.0.0.1', String(port)])).stdout.trim(), 'guarded', 'from the host too');
    } finally {
      await run('iptables', ['-w', '-D', ...drop]).catch(() => {});
      await daemon.stop();
    }
  });
});

/** Sends a datagram and resolves with the first reply (2 s at most). */
function udpExchange(host: string, port: number): Promise<string> {
  const socket = createSocket('udp4');
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no UDP reply')), 2000);
    socket.once('message', (message) => {
      clearTimeout(timer);
      resolve(message.toString());
    });
    socket.send('ping', port, host);
  }).finally(() => socket.close());
}

/** A TCP port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, () => resolve((server.address() as { port: number }).port)));
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Connects from a network namespace of the test's own, joined to the host by a veth pair on a
 * /30 of the daemon's block, as a remote client would: to the host's address on that link.
 */
async function fromRemote(prefix: string, port: number): Promise<string> {
  const ns = `nwt-remote-${process.pid}`;
  const host = `${prefix}.1`;
  const peer = `${prefix}.2`;
  const hostIf = `vr${process.pid % 100000}`;
  try {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run('ip', ['addr', 'add', `${host}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${peer}/30`, 'dev', 'eth0']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'busybox', 'nc', '-w3', host, String(port)]);
    return stdout.trim();
  } finally {
    await run('ip', ['link', 'del', hostIf]).catch(() => {});
    await run('ip', ['netns', 'del', ns]).catch(() => {});
  }
}
