import { test } from 'node:test';
import assert from 'node:assert/strict';
import { helperEnv } from '../../src/archive/helper-env.js';

test('a helper starts without NODE_EXTRA_CA_CERTS (90 ms of CPU per start) and with the rest of the environment', () => {
  const saved = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = '/etc/ssl/certs/ca-certificates.crt';
  try {
    const env = helperEnv({ EXTRA: 'x' });
    assert.equal('NODE_EXTRA_CA_CERTS' in env, false);
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(env.EXTRA, 'x');
    assert.equal(process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt', "berthd's own is kept");
  } finally {
    if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = saved;
  }
});
