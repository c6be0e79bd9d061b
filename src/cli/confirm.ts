import { createInterface } from 'node:readline/promises';
import { PitrError } from '../errors/index.js';
import type { CommandContext } from './cli-command.js';

/**
 * Asks before a destructive step. With `--yes` it returns at once. On a terminal it shows `what`
 * and waits for "yes"; any other answer refuses. Off a terminal (scripts, cron, CI) it refuses
 * and says to pass --yes, so that nothing destructive happens unattended by accident.
 *
 * @param what one or more lines saying what will be changed, on which server
 * @throws PitrError USAGE when not confirmed; nothing has been changed then
 */
export async function confirm(
  ctx: Pick<CommandContext, 'stderr' | 'signal'>,
  what: string,
  yes: boolean,
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): Promise<void> {
  if (yes) return;
  if (!input.isTTY || !ctx.stderr.isTTY) {
    throw new PitrError(
      'USAGE',
      `${what}\nrefusing to do this without confirmation: stdin is not a terminal. Nothing was changed; ` +
        'pass --yes to confirm in a script',
    );
  }
  const rl = createInterface({ input, output: ctx.stderr });
  try {
    const answer = await rl.question(`${what}\nType "yes" to continue: `, { signal: ctx.signal });
    if (answer.trim().toLowerCase() !== 'yes') {
      throw new PitrError('USAGE', 'not confirmed; nothing was changed');
    }
  } finally {
    rl.close();
  }
}
