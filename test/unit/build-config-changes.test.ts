/**
 * `commit --change` / `import --change` through the build's own parser and evaluator (moby's
 * BuildFromConfig): each change and the config fields it leaves, plus what only a real parser
 * gets right (substitution from the config's ENV, continuations).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDockerfileChanges } from '../../src/engine/build/config-changes.js';
import type { RunConfig } from '../../src/engine/build/stage-evaluator.js';

const CASES: Array<[changes: string[], expected: RunConfig, base?: RunConfig]> = [
  [['CMD ["sh"]', 'ENTRYPOINT echo hi'], { Cmd: ['sh'], Entrypoint: ['/bin/sh', '-c', 'echo hi'], ArgsEscaped: false }],
  [['ENTRYPOINT ["e"]'], { Cmd: null, Entrypoint: ['e'], ArgsEscaped: false }, { Cmd: ['inherited'] }],
  [
    ['ENV PATH=/usr/local/bin:$PATH', 'ENV GREETING hello world', 'ENV X="two words" Y=$A'],
    { Env: ['PATH=/usr/local/bin:/bin', 'A=1', 'GREETING=hello world', 'X=two words', 'Y=1'] },
    { Env: ['PATH=/bin', 'A=1'] },
  ],
  [['LABEL a=b "c d"=e', 'EXPOSE 80 53/udp', 'VOLUME ["/data"]'], { Labels: { a: 'b', 'c d': 'e' }, ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/data': {} } }],
  [['USER nobody', 'WORKDIR /srv', 'WORKDIR app', 'STOPSIGNAL SIGINT'], { User: 'nobody', WorkingDir: '/srv/app', StopSignal: 'SIGINT' }],
  [
    ['HEALTHCHECK --interval=5s --timeout=1m30s --start-period=500ms --retries=4 CMD ["curl", "-f", "x"]'],
    { Healthcheck: { Test: ['CMD', 'curl', '-f', 'x'], Interval: 5e9, Timeout: 90e9, StartPeriod: 5e8, Retries: 4 } },
  ],
  [['HEALTHCHECK CMD test -e /ready || exit 1'], { Healthcheck: { Test: ['CMD-SHELL', 'test -e /ready || exit 1'] } }],
  [['HEALTHCHECK NONE'], { Healthcheck: { Test: ['NONE'] } }],
  [['LABEL a=1 \\', '  b=2'], { Labels: { a: '1', b: '2' } }],
  [['WORKDIR $P/x', 'ONBUILD RUN make'], { Env: ['P=/p'], WorkingDir: '/p/x', OnBuild: ['RUN make'] }, { Env: ['P=/p'] }],
];

test('each change leaves the config Docker would', () => {
  for (const [changes, expected, base] of CASES) assert.deepEqual(applyDockerfileChanges(base ?? {}, changes), expected, changes.join(' | '));
  const same = { Cmd: ['x'] };
  assert.equal(applyDockerfileChanges(same, []), same);
});

test('instructions that are not changes, and bad ones, in Docker words', () => {
  const refused: Array<[string, RegExp]> = [
    ['RUN echo', /RUN is not a valid change command/],
    ['FROM x', /FROM is not a valid change command/],
    ['ENV', /ENV requires at least one argument/],
    ['EXPOSE http', /invalid containerPort: http/],
    ['HEALTHCHECK --retries=-1 CMD true', /--retries cannot be negative/],
  ];
  for (const [change, message] of refused) assert.throws(() => applyDockerfileChanges({}, [change]), message, change);
});
