import { setTimeout as sleep } from 'node:timers/promises';
import type { MariadbServer } from './mariadb-server.js';

/** `db.table` -> CHECKSUM TABLE result. */
export type Checksums = Record<string, string>;

/** CHECKSUM TABLE of every user table of `server`, `db.table` -> checksum. */
export async function tableChecksums(server: MariadbServer): Promise<Checksums> {
  const tables = await server.query<{ n: string }[]>(
    "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS n FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' " +
      "AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1",
  );
  if (tables.length === 0) return {};
  const rows = await server.query<{ Table: string; Checksum: string | number }[]>(
    `CHECKSUM TABLE ${tables
      .map((t) =>
        t.n
          .split('.')
          .map((p) => `\`${p}\``)
          .join('.'),
      )
      .join(', ')}`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

/** Waits until the wall clock is in a later second than `ms` (binlog times have 1-second resolution). */
export async function nextSecond(ms: number): Promise<void> {
  const wait = (Math.floor(ms / 1000) + 1) * 1000 + 100 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** Drops every user database of `server` (a restore target between restores). */
export async function dropUserDatabases(server: MariadbServer): Promise<void> {
  const dbs = await server.query<{ n: string }[]>(
    "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
  );
  for (const d of dbs) await server.query(`DROP DATABASE \`${d.n}\``);
}
