/**
 * The CLI as the history tests run it: with /usr/sbin on PATH (the MariaDB tools), a long timeout,
 * and one-shot archiving of a server into a repository (`archive --until-caught-up`).
 */
import assert from 'node:assert/strict';
import type { MariadbServer } from './mariadb-server.js';
import { runCli, type CliResult } from './run-cli.js';

/** PATH with /usr/sbin first, for the mariadb-dump / mariadb-binlog children of the CLI. */
export const SBIN_PATH_ENV = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

/** Runs `mysql-pitr ARGS` with SBIN_PATH_ENV plus `env`, killed after `timeoutMs` (default 180 s). */
export function pitr(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 180_000,
): Promise<CliResult> {
  return runCli(args, { env: { ...SBIN_PATH_ENV, ...env }, timeoutMs });
}

/**
 * Archives `server` into `repo` until caught up (a short flush interval; `segmentSize` small, e.g.
 * 64KiB, makes segments split files the way a long run does); fails the test on a non-zero exit.
 */
export async function archiveUntilCaughtUp(
  server: MariadbServer,
  repo: string,
  opts: { segmentSize?: string } = {},
): Promise<CliResult> {
  const r = await pitr(
    [
      'archive',
      '--source',
      server.url('repl'),
      '--repo',
      repo,
      '--until-caught-up',
      '--flush-interval',
      '100ms',
      ...(opts.segmentSize ? ['--segment-size', opts.segmentSize] : []),
    ],
    { MYSQL_PITR_SOURCE_PASSWORD: server.repl.password },
  );
  assert.equal(r.code, 0, r.stderr);
  return r;
}
