import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('test harness: throwaway MariaDB servers', () => {
  let a: MariadbServer;
  let b: MariadbServer;

  before(async () => {
    [a, b] = await Promise.all([startMariadb(), startMariadb({ gtidDomainId: 7, maxBinlogSize: '4M' })]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('runs two servers at once with distinct ports, server_ids and datadirs', async () => {
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.serverId, b.serverId);
    assert.notEqual(a.datadir, b.datadir);
    const [ra] = await a.query<{ id: string; v: string }[]>('SELECT @@server_id AS id, VERSION() AS v');
    const [rb] = await b.query<{ id: string; d: string }[]>(
      'SELECT @@server_id AS id, @@gtid_domain_id AS d, @@max_binlog_size AS m',
    );
    assert.equal(Number(ra?.id), a.serverId);
    assert.match(String(ra?.v), /MariaDB/);
    assert.equal(Number(rb?.id), b.serverId);
    assert.equal(Number(rb?.d), 7);
    const [flags] = await a.query<Record<string, string>[]>(
      'SELECT @@log_bin AS log_bin, @@binlog_format AS f, @@binlog_checksum AS c, @@gtid_strict_mode AS s',
    );
    assert.deepEqual({ ...flags }, { log_bin: '1', f: 'ROW', c: 'CRC32', s: '1' });
  });

  it('gives each server its own tmpdir, never the shared one', async () => {
    // a starting server deletes every #sql* file in its tmpdir: in a shared /tmp, also the on-disk
    // temporary tables of other servers' running queries (the likely cause of a CI run's dump
    // failing with "Lost connection to server during query" on an information_schema query)
    const dirs = await Promise.all(
      [a, b].map(async (s) => String((await s.query<{ t: string }[]>('SELECT @@tmpdir AS t'))[0]?.t)),
    );
    assert.notEqual(dirs[0], dirs[1]);
    for (const d of dirs) {
      assert.notEqual(resolve(d), resolve(tmpdir()), `a server uses the shared ${tmpdir()}`);
      assert.ok(existsSync(d), d);
    }
  });

  it('lets repl log in over TCP (no anonymous user shadows it) and read the binlog list', async () => {
    const conn = await mysql.createConnection({
      host: a.host,
      port: a.port,
      user: a.repl.user,
      password: a.repl.password,
    });
    try {
      const [who] = await conn.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS u');
      assert.equal(who[0]?.u, 'repl@%');
      const [logs] = await conn.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
      assert.ok(logs.length >= 1);
    } finally {
      await conn.end();
    }
    const anon = await a.query<unknown[]>("SELECT 1 FROM mysql.global_priv WHERE User=''");
    assert.equal(anon.length, 0);
    assert.equal(a.url('repl'), `mysql://repl@127.0.0.1:${a.port}`);
  });

  it('created the users without binlogging them', async () => {
    const [pos] = await a.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
    assert.equal(pos?.p, '');
  });

  it('stop() ends the process and removes the datadir', async () => {
    const c = await startMariadb();
    const pid = c.pid;
    assert.ok(pid !== undefined && alive(pid));
    assert.ok(existsSync(c.datadir));
    await c.stop();
    assert.equal(alive(pid), false);
    assert.equal(existsSync(c.datadir), false);
  });

  it('kill() keeps the datadir and restart() recovers the data', async () => {
    const c = await startMariadb();
    try {
      await c.query('CREATE DATABASE k');
      await c.query('CREATE TABLE k.t (id INT PRIMARY KEY) ENGINE=InnoDB');
      await c.query('INSERT INTO k.t VALUES (1), (2)');
      const pid = c.pid;
      await c.kill();
      assert.ok(pid !== undefined && !alive(pid));
      assert.ok(existsSync(c.datadir));
      await c.restart();
      const rows = await c.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM k.t');
      assert.equal(Number(rows[0]?.n), 2);
    } finally {
      await c.stop();
    }
    assert.equal(existsSync(c.datadir), false);
  });
});
