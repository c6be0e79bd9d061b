import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  loadConfig,
  parseDuration,
  parseMysqlUrl,
  type OptionSpec,
} from '../../src/config/index.js';
import { redactUrl } from '../../src/log/index.js';

const SPECS: OptionSpec[] = [
  { key: 'repo', flag: 'repo', type: 'string', description: 'Repository URL', required: true },
  {
    key: 'flushInterval',
    flag: 'flush-interval',
    type: 'duration',
    default: 1000,
    description: 'Flush interval',
  },
  { key: 'segmentSize', flag: 'segment-size', type: 'integer', default: 64, description: 'Segment size' },
  { key: 'yes', flag: 'yes', short: 'y', type: 'boolean', default: false, description: 'Do not ask' },
  {
    key: 'format',
    flag: 'format',
    type: 'string',
    choices: ['json', 'text'],
    default: 'text',
    description: 'Format',
  },
  { key: 'sourcePassword', type: 'string', secret: true, description: 'Source password' },
];

function configFile(data: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const path = join(dir, 'c.json');
  writeFileSync(path, JSON.stringify(data));
  return path;
}

test('precedence is flag > environment > config file > default', () => {
  const file = configFile({ repo: 'file:///from-file', flushInterval: '5s', segmentSize: 8 });
  const env = { MYSQL_PITR_FLUSH_INTERVAL: '250ms', MYSQL_PITR_CONFIG: file };
  const c = loadConfig(SPECS, ['--repo', 'file:///from-flag'], env);
  assert.equal(c.values.repo, 'file:///from-flag');
  assert.equal(c.sources.repo, 'flag');
  assert.equal(c.values.flushInterval, 250);
  assert.equal(c.sources.flushInterval, 'env');
  assert.equal(c.values.segmentSize, 8);
  assert.equal(c.sources.segmentSize, 'file');
  assert.equal(c.values.format, 'text');
  assert.equal(c.sources.format, 'default');
  assert.ok(Object.isFrozen(c.values));
});

test('a missing required setting names every way to set it', () => {
  assert.throws(
    () => loadConfig(SPECS, [], {}),
    (e: unknown) =>
      e instanceof ConfigError &&
      /--repo/.test(e.message) &&
      /MYSQL_PITR_REPO/.test(e.message) &&
      e.code === 'CONFIG_INVALID',
  );
});

test('bad values are rejected with where they came from', () => {
  assert.throws(
    () => loadConfig(SPECS, ['--repo', 'x', '--segment-size', 'lots'], {}),
    /--segment-size: "lots" is not a whole number/,
  );
  assert.throws(
    () => loadConfig(SPECS, ['--repo', 'x'], { MYSQL_PITR_FLUSH_INTERVAL: 'soon' }),
    /environment variable MYSQL_PITR_FLUSH_INTERVAL: "soon" is not a duration/,
  );
  assert.throws(() => loadConfig(SPECS, ['--repo', 'x', '--format', 'xml'], {}), /one of json, text/);
  assert.throws(() => loadConfig(SPECS, ['--repo', 'x', '--bogus'], {}), /Unknown option '--bogus'/);
});

test('passwords are refused as flags and read from the environment', () => {
  assert.throws(
    () => loadConfig(SPECS, ['--repo', 'x', '--source-password', 'hunter2'], {}),
    /never travel on the command line/,
  );
  const c = loadConfig(SPECS, ['--repo', 'x'], { MYSQL_PITR_SOURCE_PASSWORD: 'hunter2' });
  assert.equal(c.values.sourcePassword, 'hunter2');
});

test('a broken config file is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const path = join(dir, 'bad.json');
  writeFileSync(path, '{ not json');
  assert.throws(() => loadConfig(SPECS, ['--config', path], {}), /is not valid JSON/);
  assert.throws(
    () => loadConfig(SPECS, ['--config', join(dir, 'missing.json')], {}),
    /cannot read config file/,
  );
});

test('durations', () => {
  assert.equal(parseDuration('1s'), 1000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('soon'), undefined);
});

test('mysql URLs: parsed, passwords refused on argv, redacted when printed', () => {
  assert.deepEqual(parseMysqlUrl('mysql://repl@db1:3307'), { host: 'db1', port: 3307, user: 'repl' });
  assert.equal(parseMysqlUrl('mariadb://u@h').port, 3306);
  assert.equal(parseMysqlUrl('mysql://u@localhost/?socket=/tmp/s.sock').socket, '/tmp/s.sock');
  assert.throws(
    () => parseMysqlUrl('mysql://repl:secret@db1'),
    (e: unknown) => e instanceof ConfigError && !/secret/.test(e.message),
  );
  assert.throws(() => parseMysqlUrl('http://db1'), /must start with mysql:\/\//);
  assert.throws(() => parseMysqlUrl('mysql://db1'), /names no user/);
  assert.equal(parseMysqlUrl('mysql://repl:secret@db1', 'x', true).password, 'secret');
  assert.equal(redactUrl('mysql://repl:secret@db1:3306'), 'mysql://repl:***@db1:3306');
  assert.equal(redactUrl('s3://bucket/prefix'), 's3://bucket/prefix');
});

test('redactUrl: one rule for MySQL, S3 and presigned URLs, also where new URL fails', () => {
  // several hosts: new URL rejects it, the password must still go
  assert.equal(
    redactUrl('mysql://repl:pw@db1:3306,db2:3306/?ssl=true'),
    'mysql://repl:***@db1:3306,db2:3306/?ssl=true',
  );
  assert.equal(
    redactUrl('https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&part=1'),
    'https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&part=1',
  );
  assert.equal(redactUrl('http://user:pa55@minio:9000'), 'http://user:***@minio:9000');
  assert.equal(redactUrl('http://minio:9000/?token=t0k&x=1'), 'http://minio:9000/?token=***&x=1');
  assert.equal(redactUrl('not a url: password'), 'not a url: password');
});
