import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable } from '../../src/api/router.js';

test('segment and catch-all parameters, as moby routes them', () => {
  const routes = new RouteTable<string>()
    .add('GET', '/containers/{id}/json', 'inspect')
    .add('GET', '/images/{name:.*}/json', 'image')
    .add('DELETE', '/images/{name:.*}', 'rmi');
  assert.deepEqual(routes.match('GET', '/containers/abc/json'), { handler: 'inspect', params: { id: 'abc' } });
  assert.deepEqual(routes.match('GET', '/images/localhost:5000/a/b:1/json'), { handler: 'image', params: { name: 'localhost:5000/a/b:1' } });
  assert.deepEqual(routes.match('DELETE', '/images/bb2%3Ax'), { handler: 'rmi', params: { name: 'bb2:x' } });
  assert.equal(routes.match('GET', '/containers/a/b/json'), undefined);
  assert.equal(routes.match('POST', '/containers/abc/json'), 'method-not-allowed');
  assert.equal(routes.match('GET', '/containersXabc/json'), undefined);
  assert.equal(routes.match('POST', '/images/busybox/json'), 'method-not-allowed');
});

test('a path only a catch-all route takes is a missing endpoint (404), not a wrong method', () => {
  const routes = new RouteTable<string>().add('GET', '/images/{name:.*}/json', 'image').add('DELETE', '/images/{name:.*}', 'rmi');
  for (const path of ['/images/busybox/history', '/images/busybox/get', '/images/load', '/images/busybox/push']) {
    assert.equal(routes.match(path.endsWith('push') || path.endsWith('load') ? 'POST' : 'GET', path), undefined, path);
  }
  assert.deepEqual(routes.match('DELETE', '/images/busybox/history'), { handler: 'rmi', params: { name: 'busybox/history' } });
});
