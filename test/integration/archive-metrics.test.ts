/** The archiver's metric lines: the Cluster dimension, and lag 0 from an idle, caught-up archiver. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { archiveBinlogs, formatArchiveMetrics } from '../../src/archiver/index.js';
import { FsObjectStore } from '../../src/storage/index.js';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';

describe('archiver metrics', () => {
  let server: MariadbServer;
  let dir: string;

  before(async () => {
    [server, dir] = await Promise.all([startMariadb(), mkdtemp(join(tmpdir(), 'pitr-metrics-'))]);
    await server.query('CREATE DATABASE m');
    await server.query('CREATE TABLE m.t (id INT PRIMARY KEY)');
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('names the cluster as a dimension only when one is given', () => {
    const base = {
      timeline: '000001',
      lagSeconds: 0.5,
      bytes: 10,
      storedBytes: 5,
      segments: 1,
      time: 1,
      file: 'f',
      end: 9,
    };
    const plain = JSON.parse(formatArchiveMetrics(base)) as Record<string, unknown>;
    assert.equal(plain['Cluster'], undefined);
    const named = JSON.parse(formatArchiveMetrics({ ...base, cluster: 'orders' })) as {
      Cluster: string;
      _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] };
    };
    assert.equal(named.Cluster, 'orders');
    assert.deepEqual(named._aws.CloudWatchMetrics[0]?.Dimensions, [['Cluster'], ['Cluster', 'Timeline']]);
  });

  it('reports lag per stored segment, then lag 0 while the source is idle and everything is durable', async () => {
    const lines: Record<string, unknown>[] = [];
    const stop = new AbortController();
    const run = archiveBinlogs({
      source: {
        host: server.host,
        port: server.port,
        user: server.repl.user,
        password: server.repl.password,
      },
      sourceAddress: server.url('repl'),
      store: new FsObjectStore({ root: join(dir, 'repo') }),
      flushIntervalMs: 100,
      heartbeatPeriodMs: 200,
      idleMetricsIntervalMs: 300,
      cluster: 'orders',
      metrics: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
      signal: stop.signal,
    });
    await server.query('INSERT INTO m.t VALUES (1), (2)');
    const deadline = Date.now() + 30_000;
    const idle = (): Record<string, unknown> | undefined =>
      lines.find((l) => l['Segments'] === 0 && l['ArchiveLagSeconds'] === 0);
    while (!idle() && Date.now() < deadline) await sleep(100);
    stop.abort();
    await run;
    const stored = lines.filter((l) => (l['Segments'] as number) > 0);
    assert.ok(stored.length > 0, 'the insert was stored as a segment');
    assert.ok(stored.every((l) => l['Cluster'] === 'orders' && typeof l['ArchiveLagSeconds'] === 'number'));
    const quiet = idle();
    assert.ok(quiet, `no idle lag line in ${JSON.stringify(lines)}`);
    assert.equal(quiet['Cluster'], 'orders');
  });
});
