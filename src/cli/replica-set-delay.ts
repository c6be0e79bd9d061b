import { formatEndpoint } from '../config/index.js';
import { connectMysql } from '../mysql/index.js';
import { checkReplicaDelay, setReplicaDelay } from '../restore/index.js';
import type { CliCommand } from './cli-command.js';
import { connectionOptions } from './archive.js';
import { readServer, serverOptions } from './server-options.js';

export const replicaSetDelay: CliCommand = {
  words: ['replica', 'set-delay'],
  summary: 'Change the delay of a (delayed) replica (MASTER_DELAY) and restart replication',
  usage: '--target mysql://USER@HOST:PORT --delay SECONDS [--json]',
  details: [
    'MariaDB: STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=SECONDS; START SLAVE (MariaDB refuses CHANGE MASTER while',
    'the IO thread runs). MySQL: only the SQL thread is stopped (SOURCE_DELAY). 0 removes the delay. Waits until',
    'both threads run again and prints the new SQL_Delay. The target password comes from',
    'MYSQL_PITR_TARGET_PASSWORD or --target-password-file.',
    '',
    'Example: mysql-pitr replica set-delay --target mysql://admin@replica2:3306 --delay 7200',
  ].join('\n'),
  options: [
    ...serverOptions('target', 'The replica'),
    {
      key: 'delay',
      flag: 'delay',
      type: 'integer',
      required: true,
      env: false,
      valueName: 'SECONDS',
      description: 'New delay in seconds (0: none)',
    },
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print the status as JSON' },
  ],
  async run(ctx) {
    const o = ctx.options;
    const { endpoint, password } = readServer(o, 'target');
    const delay = checkReplicaDelay(o.number('delay'));
    const target = await connectMysql(connectionOptions(endpoint, password));
    try {
      const status = await setReplicaDelay(target, formatEndpoint(endpoint), delay, { signal: ctx.signal });
      ctx.stdout.write(
        o.boolean('json')
          ? `${JSON.stringify(status, null, 2)}\n`
          : `SQL_Delay ${status.sqlDelay}\nSlave_IO_Running ${status.ioRunning}, Slave_SQL_Running ${status.sqlRunning}\n` +
              `Seconds_Behind_Master ${status.secondsBehindSource ?? 'NULL'}\n`,
      );
    } finally {
      await target.end().catch(() => undefined);
    }
  },
};
