import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildDumpCommand } from '../../src/backup/dump-command.js';
import { formatDefaultsFile } from '../../src/mysql/format-defaults-file.js';

const endpoint = { host: 'db1.example', port: 3307 };
const mariadb = { flavor: 'mariadb' as const, version: { major: 10, minor: 11, patch: 19 } };
const mysql = (major: number, minor: number, patch: number) => ({
  flavor: 'mysql' as const,
  version: { major, minor, patch },
});

describe('buildDumpCommand', () => {
  it('MariaDB: mariadb-dump first, --master-data=2 --gtid, defaults file first, all databases', () => {
    const c = buildDumpCommand({ source: mariadb, endpoint, defaultsFile: '/tmp/x/client.cnf' });
    assert.deepEqual(c.programs, ['mariadb-dump', 'mysqldump']);
    assert.deepEqual(c.args, [
      '--defaults-extra-file=/tmp/x/client.cnf',
      '--protocol=TCP',
      '--host=db1.example',
      '--port=3307',
      '--single-transaction',
      '--master-data=2',
      '--gtid',
      '--routines',
      '--events',
      '--triggers',
      '--hex-blob',
      '--all-databases',
    ]);
  });

  it('MySQL 8.0.26+ uses --source-data=2; older MySQL --master-data=2; never --gtid', () => {
    for (const [v, flag] of [
      [mysql(8, 0, 26), '--source-data=2'],
      [mysql(8, 4, 0), '--source-data=2'],
      [mysql(9, 1, 0), '--source-data=2'],
      [mysql(8, 0, 25), '--master-data=2'],
      [mysql(5, 7, 44), '--master-data=2'],
    ] as const) {
      const c = buildDumpCommand({ source: v, endpoint, defaultsFile: '/f' });
      assert.deepEqual(c.programs, ['mysqldump']);
      assert.ok(c.args.includes(flag), `${JSON.stringify(v.version)} -> ${flag}`);
      assert.equal(c.args.filter((a) => /^--(master|source)-data/.test(a)).length, 1);
      assert.ok(!c.args.includes('--gtid'));
    }
  });

  it('puts extra args before the database selection, and --databases lists the schemas', () => {
    const c = buildDumpCommand({
      source: mariadb,
      endpoint: { ...endpoint, tls: { mode: 'required' } },
      defaultsFile: '/f',
      databases: ['shop', 'crm'],
      extraArgs: ['--skip-lock-tables', '--max-allowed-packet=1G'],
    });
    assert.deepEqual(c.args.slice(-5), [
      '--skip-lock-tables',
      '--max-allowed-packet=1G',
      '--databases',
      'shop',
      'crm',
    ]);
    assert.ok(c.args.includes('--ssl'));
    assert.ok(!c.args.includes('--all-databases'));
  });

  it('connects over the socket when the endpoint has one', () => {
    const c = buildDumpCommand({
      source: mariadb,
      endpoint: { ...endpoint, socket: '/run/mysqld.sock' },
      defaultsFile: '/f',
    });
    assert.deepEqual(c.args.slice(1, 3), ['--protocol=SOCKET', '--socket=/run/mysqld.sock']);
    assert.ok(!c.args.some((a) => a.startsWith('--host')));
  });

  it('never puts a user or password in argv', () => {
    const c = buildDumpCommand({
      source: mariadb,
      endpoint,
      defaultsFile: '/tmp/d/client.cnf',
      databases: ['a'],
    });
    assert.ok(!c.args.some((a) => /^(-p|--password|-u|--user)/.test(a)), c.args.join(' '));
    assert.match(c.args[0]!, /^--defaults-extra-file=/);
  });

  it('rejects a database name that would read as a flag', () => {
    assert.throws(
      () => buildDumpCommand({ source: mariadb, endpoint, defaultsFile: '/f', databases: ['--all'] }),
      RangeError,
    );
    assert.throws(
      () => buildDumpCommand({ source: mariadb, endpoint, defaultsFile: '/f', databases: [''] }),
      RangeError,
    );
  });
});

describe('formatDefaultsFile', () => {
  it('writes a [client] group with quoted, escaped user and password', () => {
    assert.equal(
      formatDefaultsFile('backup', 'p"a\\ss#w'),
      '[client]\nuser="backup"\npassword="p\\"a\\\\ss#w"\n',
    );
    assert.equal(formatDefaultsFile('backup', undefined), '[client]\nuser="backup"\n');
  });

  it('refuses a line break, which an option file cannot hold', () => {
    assert.throws(() => formatDefaultsFile('u', 'a\nb'), RangeError);
  });
});
