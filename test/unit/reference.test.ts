import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseReference,
  parseNormalisedNamed,
  familiarString,
  canonicalString,
} from '../../src/engine/images/reference.js';

test('a bare name becomes docker.io/library/NAME:latest', () => {
  const ref = parseNormalisedNamed('busybox');
  assert.equal(canonicalString(ref), 'docker.io/library/busybox:latest');
  assert.equal(familiarString(ref), 'busybox:latest');
});

test('user repositories keep their namespace', () => {
  assert.equal(canonicalString(parseNormalisedNamed('foo/bar:1.0')), 'docker.io/foo/bar:1.0');
  assert.equal(familiarString(parseNormalisedNamed('docker.io/foo/bar')), 'foo/bar:latest');
  assert.equal(familiarString(parseNormalisedNamed('index.docker.io/library/busybox')), 'busybox:latest');
});

test('registry hosts with ports and localhost are domains', () => {
  const ref = parseReference('localhost:5000/team/app:v2');
  assert.deepEqual(ref, { domain: 'localhost:5000', path: 'team/app', tag: 'v2', digest: undefined });
  assert.equal(parseReference('localhost/app').domain, 'localhost');
  assert.equal(parseReference('registry.example.com/app').domain, 'registry.example.com');
  assert.equal(familiarString(parseNormalisedNamed('localhost:5000/app')), 'localhost:5000/app:latest');
});

test('digests are parsed and no default tag is added', () => {
  const digest = 'sha256:' + 'a'.repeat(64);
  const ref = parseNormalisedNamed(`busybox@${digest}`);
  assert.equal(ref.tag, undefined);
  assert.equal(ref.digest, digest);
  assert.equal(canonicalString(ref), `docker.io/library/busybox@${digest}`);
});

test('invalid references are rejected with Docker messages', () => {
  for (const bad of ['', 'a:b:c', 'UPPER:tag', 'a/b/:tag', 'busybox@sha256:abc', 'x:' + 't'.repeat(200), '-lead']) {
    assert.throws(() => parseReference(bad), /invalid reference format/, bad);
  }
  assert.throws(() => parseReference('Busybox'), /must be lowercase/);
  assert.throws(() => parseNormalisedNamed('a'.repeat(64)), /^BerthError: invalid repository name \(a{64}\), cannot specify 64-byte hexadecimal strings$/);
  assert.equal(parseNormalisedNamed(`${'a'.repeat(64)}:1`).path, `library/${'a'.repeat(64)}`, 'with a tag it is a name');
});
