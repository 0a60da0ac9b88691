/**
 * The pure parts of networking: addresses and pools, network create checks, port specs (the CLI's
 * and the API's), endpoint plans and the generated resolv.conf and hosts files.
 */
import { parseMac } from '../../src/common/mac-address.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ipam, pickSubnet } from '../../src/engine/networks/ipam.js';
import { formatCidr, formatIp, macOf, parseCidr, parseIp } from '../../src/engine/networks/ipv4.js';
import { newNetwork } from '../../src/engine/networks/network-create.js';
import { publishRequests } from '../../src/engine/networks/port-bindings.js';
import { planEndpoints } from '../../src/engine/networks/endpoint-plan.js';
import { defaultBridgeNetwork } from '../../src/engine/networks/default-bridge.js';
import { hostsContent, resolvConfContent } from '../../src/engine/containers/etc-files.js';
import { parsePublish } from '../../src/cli/network-flags.js';
import type { NetworkRecord } from '../../src/engine/networks/model.js';
import type { ContainerRecord } from '../../src/engine/containers/model.js';

const context = { existing: [] as NetworkRecord[], hostRoutes: [parseCidr('192.0.2.0/24')], pools: [{ base: '10.50.0.0/16', size: 24 }] };
const net = (name: string, subnet: string, fields: Partial<NetworkRecord> = {}) => ({ ...newNetwork({ Name: name, IPAM: { Config: [{ Subnet: subnet }] } }, name.padEnd(64, '0'), context), ...fields });

test('IPv4 parsing, formatting, MACs as Docker derives them', () => {
  assert.equal(formatIp(parseIp('10.1.2.3')!), '10.1.2.3');
  assert.equal(parseIp('10.1.2.256'), undefined);
  assert.equal(parseIp('01.1.2.3'), undefined);
  assert.deepEqual(parseCidr('10.1.2.3/16'), { ip: parseIp('10.1.2.3'), base: parseIp('10.1.0.0'), prefix: 16 });
  assert.throws(() => parseCidr('10.1.2.3'), /invalid CIDR address: 10\.1\.2\.3/);
  assert.equal(macOf(parseIp('172.17.0.2')!), '02:42:ac:11:00:02');
});

test('pools: the first block that overlaps nothing taken', () => {
  assert.equal(formatCidr(pickSubnet([{ base: '10.50.0.0/16', size: 24 }], [parseCidr('10.50.0.0/24'), parseCidr('10.50.1.0/25')])), '10.50.2.0/24');
  assert.throws(() => pickSubnet([{ base: '10.50.0.0/24', size: 24 }], [parseCidr('10.0.0.0/8')]), /could not find an available, non-overlapping IPv4 address pool/);
});

test('IPAM: round-robin, never the network, gateway or broadcast address; --ip checked', () => {
  const ipam = new Ipam();
  const n = net('a', '10.9.0.0/29');
  const got = [ipam.allocate(n), ipam.allocate(n), ipam.allocate(n)].map(formatIp);
  assert.deepEqual(got, ['10.9.0.2', '10.9.0.3', '10.9.0.4']);
  ipam.release(n.Id, '10.9.0.2');
  assert.equal(formatIp(ipam.allocate(n)), '10.9.0.5', 'a released address is not handed out again at once');
  assert.equal(formatIp(ipam.allocate(n)), '10.9.0.6');
  assert.equal(formatIp(ipam.allocate(n)), '10.9.0.2');
  assert.throws(() => ipam.allocate(n), /no available IPv4 addresses/);
  assert.throws(() => ipam.claim(n, '10.9.0.1'), /Address already in use/);
  assert.throws(() => ipam.claim(n, '10.9.1.1'), /no configured subnet or ip-range contain the IP address 10\.9\.1\.1/);
  const ranged = net('b', '10.8.0.0/24', { IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.8.0.0/24', Gateway: '10.8.0.1', IPRange: '10.8.0.128/25' }] } });
  assert.equal(formatIp(new Ipam().allocate(ranged)), '10.8.0.129');
});

test('network create: Docker\'s checks and messages', () => {
  const existing = [net('one', '10.60.0.0/24')];
  const create = (request: Parameters<typeof newNetwork>[0]) => newNetwork(request, 'f'.repeat(64), { ...context, existing });
  assert.throws(() => create({ Name: 'x', IPAM: { Config: [{ Subnet: '10.60.0.128/25' }] } }), /Pool overlaps with other one on this address space/);
  assert.throws(() => create({ Name: 'one' }), /network with name one already exists/);
  assert.throws(() => create({ Name: 'bridge' }), /operation is not permitted on predefined bridge network/);
  assert.throws(() => create({ Name: 'x', Driver: 'macvlan' }), /plugin "macvlan" not found/);
  assert.throws(() => create({ Name: 'x', Driver: 'host' }), /only one instance of "host" network is allowed/);
  assert.throws(() => create({ Name: 'x', IPAM: { Config: [{ Subnet: '10.61.0.0/24', Gateway: '10.62.0.1' }] } }), /failed to allocate gateway \(10\.62\.0\.1\): Address out of range/);
  assert.throws(() => create({ Name: 'x', Options: { 'com.docker.network.bridge.enable_icc': 'maybe' } }), /strconv\.ParseBool/);
  assert.throws(() => create({ Name: 'bad name' }), /invalid network name/);
  const made = create({ Name: 'auto', Internal: true, Labels: { a: 'b' } });
  assert.deepEqual(made.IPAM.Config, [{ Subnet: '10.50.0.0/24', Gateway: '10.50.0.1' }]);
  assert.equal(made.Internal, true);
});

test('the default bridge: bip sets address and subnet; without it, the previous subnet is kept', () => {
  const settings = { bridge: 'berth0', mtu: 1500, icc: false, pools: [{ base: '10.70.0.0/16', size: 24 }] };
  const withBip = defaultBridgeNetwork({ ...settings, bip: '10.71.0.5/24' }, 'a'.repeat(64), undefined, [], []);
  assert.deepEqual(withBip.IPAM.Config, [{ Subnet: '10.71.0.0/24', Gateway: '10.71.0.5' }]);
  assert.equal(withBip.Options['com.docker.network.bridge.enable_icc'], 'false');
  const first = defaultBridgeNetwork(settings, 'a'.repeat(64), undefined, [parseCidr('10.70.0.0/24')], []);
  assert.equal(first.IPAM.Config[0].Subnet, '10.70.1.0/24');
  // Its own route (the bridge up with live containers) does not move it.
  assert.equal(defaultBridgeNetwork(settings, first.Id, first, [parseCidr('10.70.1.0/24')], []).IPAM.Config[0].Subnet, '10.70.1.0/24');
});

test('port specs: the CLI\'s -p forms and the API\'s PortBindings', () => {
  assert.deepEqual(parsePublish('80'), [{ key: '80/tcp', HostIp: '', HostPort: '' }]);
  assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ key: '80/udp', HostIp: '127.0.0.1', HostPort: '8080' }]);
  assert.deepEqual(parsePublish('127.0.0.1::80'), [{ key: '80/tcp', HostIp: '127.0.0.1', HostPort: '' }]);
  assert.deepEqual(parsePublish('8000-8001:80-81').map((b) => `${b.HostPort}->${b.key}`), ['8000->80/tcp', '8001->81/tcp']);
  assert.deepEqual(parsePublish('8000-8010:80'), [{ key: '80/tcp', HostIp: '', HostPort: '8000-8010' }]);
  assert.deepEqual(parsePublish('[::1]:8080:80'), [{ key: '80/tcp', HostIp: '::1', HostPort: '8080' }]);
  assert.throws(() => parsePublish('80:70000'), /invalid port specification/);
  assert.throws(() => parsePublish('80/icmp'), /invalid proto: icmp/);
  const requests = publishRequests({ '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': null }, { '443/tcp': {}, '80/tcp': {} }, true);
  assert.deepEqual(requests, [
    { containerPort: 80, protocol: 'tcp', hostIp: '', hostPorts: [8080, 8080] },
    { containerPort: 53, protocol: 'udp', hostIp: '', hostPorts: [0, 0] },
    { containerPort: 443, protocol: 'tcp', hostIp: '', hostPorts: [0, 0] },
  ]);
  assert.throws(() => publishRequests({ 'x/tcp': [] }, null, false), /invalid port specification: "x"/);
  assert.throws(() => publishRequests({ '80/tcp': [{ HostIp: 'nope', HostPort: '1' }] }, null, false), /invalid IP address: nope/);
});

test('endpoint plans: moby\'s checks of the mode, --ip, aliases and shared modes', () => {
  const bridge = net('brdg', '10.80.0.0/24', { Name: 'bridge' });
  const user = net('user', '10.81.0.0/24');
  const find = (term: string) => [bridge, user].find((n) => n.Name === term || n.Id === term);
  const peers = (id: string) => ({ id } as ContainerRecord);
  const record = (hostConfig: Record<string, unknown> = {}, config: Record<string, unknown> = {}) => ({ hostConfig, config } as unknown as ContainerRecord);
  const plan = (mode: string, endpoints: Parameters<typeof planEndpoints>[1] = [], r = record()) => planEndpoints(mode, endpoints, r, find, peers);
  assert.deepEqual(Object.keys(plan('default')), ['bridge']);
  assert.deepEqual(plan('user', [{ network: 'user', settingsGiven: [], Aliases: ['db'], IPv4Address: '10.81.0.9' }]).user.IPAMConfig, { IPv4Address: '10.81.0.9' });
  assert.throws(() => plan('default', [{ network: 'default', settingsGiven: [], IPv4Address: '10.80.0.9' }]), /user specified IP address is supported on user defined networks only/);
  assert.throws(() => plan('default', [{ network: 'default', settingsGiven: [], Aliases: ['x'] }]), /network-scoped alias is supported only for containers in user defined networks/);
  assert.deepEqual(Object.keys(plan('nosuch')), ['nosuch'], 'a missing network fails the start, not the create');
  assert.deepEqual(Object.keys(plan('user', [{ network: 'bridge', settingsGiven: [] }])), ['user', 'bridge']);
  assert.throws(() => plan('container:x', [], record({ PortBindings: { '80/tcp': [] } })), /conflicting options: port publishing and the container type network mode/);
  assert.throws(() => plan('default', [], record({ ExtraHosts: ['nohost'] })), /invalid IP address in add-host: ""/);
  assert.throws(() => plan('default', [], record({ Dns: ['dns.example'] })), /dns\.example is not an ip address/);
  assert.doesNotThrow(() => plan('default', [], record({ ExtraHosts: ['gw:host-gateway', 'a=10.0.0.1'] })));
});

test('MAC addresses: Go\'s three spellings, kept as asked on the main network, the container-wide one merged (API < 1.44)', () => {
  assert.equal(parseMac('02:42:AC:11:00:09'), '02:42:ac:11:00:09');
  assert.equal(parseMac('02-42-ac-11-00-09'), '02:42:ac:11:00:09');
  assert.equal(parseMac('0242.ac11.0009'), '02:42:ac:11:00:09');
  for (const bad of ['zz', '02:42:ac:11:00', '02:42-ac:11:00:09', '02:42:ac:11:00:09:aa:bb']) assert.equal(parseMac(bad), undefined, bad);
  const user = net('user', '10.81.0.0/24');
  const find = (term: string) => (term === 'user' ? user : undefined);
  const record = { hostConfig: {}, config: {} } as unknown as ContainerRecord;
  const plan = (mode: string, endpoints: Parameters<typeof planEndpoints>[1], containerMac?: string) => planEndpoints(mode, endpoints, record, find, () => record, containerMac);
  const asked = plan('user', [{ network: 'user', settingsGiven: [], MacAddress: '92-D0-C6-0A-29-33' }]).user!;
  assert.deepEqual([asked.MacAddress, asked.DesiredMacAddress], ['92:d0:c6:0a:29:33', '92:d0:c6:0a:29:33']);
  assert.equal(plan('user', [], '92:d0:c6:0a:29:33').user!.DesiredMacAddress, '92:d0:c6:0a:29:33');
  assert.throws(() => plan('user', [{ network: 'user', settingsGiven: [], MacAddress: 'zz' }]), /invalid MAC address zz/);
  assert.throws(() => plan('user', [{ network: 'user', settingsGiven: [], MacAddress: '92:d0:c6:0a:29:34' }], '92:d0:c6:0a:29:33'), /must match the endpoint-specific MAC address/);
  assert.throws(() => plan('host', [], '92:d0:c6:0a:29:33'), /conflicting options: mac-address and the network mode/);
});

test('resolv.conf and hosts as moby writes them', () => {
  const host = 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch example.org\noptions edns0\n';
  assert.equal(resolvConfContent(host, { servers: [], search: [], options: [] }), 'nameserver 192.0.2.53\nsearch example.org\noptions edns0\n');
  assert.equal(resolvConfContent(host, { servers: ['9.9.9.9'], search: ['a.b'], options: ['ndots:2'] }), 'nameserver 9.9.9.9\nsearch a.b\noptions ndots:2\n');
  assert.equal(resolvConfContent(host, { servers: [], search: ['.'], options: [] }, ['10.1.0.1']), 'nameserver 10.1.0.1\noptions edns0\n');
  assert.match(hostsContent([{ ip: '10.1.0.2', names: ['web'] }]), /^127\.0\.0\.1\tlocalhost\n[\s\S]*\n10\.1\.0\.2\tweb\n$/);
});
