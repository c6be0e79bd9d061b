/**
 * The quick start (`bash scripts/quickstart.sh`): a guided incident drill against a throwaway
 * MariaDB that it starts itself, with a repository in a temporary folder: archive, back up,
 * break the data with a DELETE, find the DELETE with `timeline search`, restore to just before it
 * into a fresh server, and prove the restored table equals the one before the incident. Every mysql-pitr step
 * runs the real CLI as a child process and prints the command line first, so the output doubles
 * as a tutorial. Exits non-zero if any step fails; stops the server and removes its datadir in
 * every case.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../test/support/mariadb-server.js';

const BIN = fileURLToPath(new URL('../bin/mysql-pitr.js', import.meta.url));
const say = (text: string): void => void process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

/** Runs `mysql-pitr ARGS` with `env`, echoing the command; returns stdout. Throws on a non-zero exit. */
async function pitr(
  args: string[],
  env: Record<string, string>,
  opts: { quiet?: boolean; silent?: boolean } = {},
): Promise<string> {
  if (!opts.silent) process.stdout.write(`$ mysql-pitr ${args.join(' ')}\n`);
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env, MYSQL_PITR_LOG_FORMAT: 'text' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => {
    out.push(c);
    if (!opts.quiet && !opts.silent) process.stdout.write(c);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`mysql-pitr ${args[0]} ${args[1] ?? ''} exited with ${code}`);
  return Buffer.concat(out).toString();
}

/**
 * Waits until the archive holds everything the source has written so far (its SHOW MASTER STATUS
 * position is durable), so stopping the archiver cannot race its start on a slow machine.
 */
async function waitUntilArchived(
  src: MariadbServer,
  env: Record<string, string>,
  archiver: ChildProcess,
): Promise<void> {
  const [master] = await src.query<{ File: string; Position: number | string }[]>('SHOW MASTER STATUS');
  const want = { file: master!.File, position: Number(master!.Position) };
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = JSON.parse(await pitr(['status', '--json'], env, { silent: true })) as {
      lastDurable?: { file: string; position: number };
    };
    const d = status.lastDurable;
    if (d && (d.file > want.file || (d.file === want.file && d.position >= want.position))) return;
    if (archiver.exitCode !== null) throw new Error(`the archiver exited with ${archiver.exitCode}`);
    if (Date.now() > deadline) {
      throw new Error(
        `the archiver did not reach ${want.file}:${want.position} within 120 s (now at ${JSON.stringify(d)})`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** CHECKSUM TABLE of shop.orders on `server`. */
async function checksum(server: MariadbServer): Promise<string> {
  const [row] = await server.query<{ Checksum: string | number | null }[]>('CHECKSUM TABLE shop.orders');
  return String(row?.Checksum);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'mysql-pitr-quickstart-'));
  const repo = pathToFileURL(join(work, 'repo')).href;
  const servers: MariadbServer[] = [];
  let archiver: ChildProcess | undefined;
  try {
    say('Starting a throwaway MariaDB source (binlog on, ROW format, CRC32 checksums, GTID strict mode)');
    const src = await startMariadb({ maxBinlogSize: '16M' });
    servers.push(src);
    console.log(`source: ${src.url()} (datadir ${src.datadir}); repository: ${repo}`);
    const env = {
      MYSQL_PITR_SOURCE_PASSWORD: src.admin.password,
      MYSQL_PITR_REPO: repo,
    };

    say('Starting the binlog archiver in the background (segments stored within 1 s of commit)');
    archiver = startArchiver(['archive', '--source', src.url(src.repl.user), '--flush-interval', '1s'], {
      ...env,
      MYSQL_PITR_SOURCE_PASSWORD: src.repl.password,
    });

    say('Writing some data: shop.orders');
    await src.query('CREATE DATABASE shop');
    await src.query(
      'CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer VARCHAR(40), total DECIMAL(10,2))',
    );
    for (let i = 0; i < 20; i++) {
      await src.query('INSERT INTO shop.orders (customer, total) VALUES (?, ?), (?, ?)', [
        `c${i}`,
        i * 3.5,
        `d${i}`,
        i + 0.25,
      ]);
    }

    say('Taking a consistent backup into the repository');
    await pitr(['backup', 'create', '--source', src.url()], env);

    say('More writes after the backup, then the incident: a DELETE without WHERE');
    await src.query("UPDATE shop.orders SET total = total + 1 WHERE customer LIKE 'c%'");
    await src.query('INSERT INTO shop.orders (customer, total) VALUES (?, ?)', ['late', 99.99]);
    const [count] = await src.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM shop.orders');
    const before = await checksum(src);
    await src.query('DELETE FROM shop.orders');
    console.log(`shop.orders had ${count?.n} rows (CHECKSUM ${before}); now it has 0.`);

    say('Waiting until the archive holds the DELETE (within about a second of its commit)');
    await waitUntilArchived(src, env, archiver);
    say('Stopping the archiver with SIGTERM: it flushes what it has and exits 0');
    await stopArchiver(archiver);
    archiver = undefined;
    await pitr(['status'], env);

    say('Finding the incident in the archive: timeline search');
    const hits = (await pitr(['timeline', 'search', '--query', 'DELETE FROM shop\\.orders', '--json'], env))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const gtid = hits.at(-1)?.['gtid'];
    if (typeof gtid !== 'string') throw new Error('timeline search did not find the DELETE');
    console.log(`the DELETE is transaction ${gtid}`);

    say('Planning a restore to just before it');
    await pitr(['restore', 'plan', '--before-gtid', gtid], env);

    say('Restoring into a fresh server: backup + archived binlogs up to just before the DELETE');
    const target = await startMariadb();
    servers.push(target);
    await pitr(['restore', 'pitr', '--before-gtid', gtid, '--target', target.url()], {
      ...env,
      MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
    });

    say('Proof');
    const restored = await checksum(target);
    const [rows] = await target.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM shop.orders');
    console.log(`before the incident: ${count?.n} rows, CHECKSUM ${before}`);
    console.log(`restored target:     ${rows?.n} rows, CHECKSUM ${restored}`);
    if (restored !== before) throw new Error('the restored table differs from its state before the incident');
    console.log('\nThe restored server holds shop.orders exactly as it was just before the DELETE.');
  } finally {
    if (archiver) await stopArchiver(archiver).catch(() => undefined);
    await Promise.all(servers.map((s) => s.stop()));
    if (process.env['KEEP'] === '1') console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

/** Starts `mysql-pitr ARGS` in the background, its logs to our stderr. */
function startArchiver(args: string[], env: Record<string, string>): ChildProcess {
  process.stdout.write(`$ mysql-pitr ${args.join(' ')} &\n`);
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env, MYSQL_PITR_LOG_FORMAT: 'text', MYSQL_PITR_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** SIGTERM, then waits for the exit; throws unless it exits 0. */
async function stopArchiver(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) throw new Error(`the archiver had exited with ${child.exitCode}`);
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`the archiver exited with ${code} after SIGTERM`);
}

main().catch((err: unknown) => {
  process.stderr.write(`quickstart failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
