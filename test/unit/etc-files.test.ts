import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterResolvConf } from '../../src/engine/containers/etc-files.js';

test('loopback nameservers are dropped from the host resolv.conf; others and options stay', () => {
  const host = 'search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n';
  assert.equal(filterResolvConf(host), 'search example.org\nnameserver 10.0.0.2\noptions edns0\n');
});

test('with only loopback nameservers, Docker\'s public fallbacks are used', () => {
  assert.equal(filterResolvConf('nameserver 127.0.0.1\nnameserver ::1\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(filterResolvConf(''), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
});
