import type { OptionSpec } from '../config/index.js';
import type { Logger } from '../log/index.js';

/** How the archiver's metrics are written: EMF JSON lines, human log lines, or not at all. */
export type MetricsFormat = 'emf' | 'human' | 'off';

/** The values of `--metrics`: a format, or `auto` (see chooseMetricsFormat). */
export const METRICS_CHOICES: readonly (MetricsFormat | 'auto')[] = ['auto', 'emf', 'human', 'off'];

/** `--metrics auto|emf|human|off`. */
export const METRICS_OPTION: OptionSpec = {
  key: 'metrics',
  flag: 'metrics',
  type: 'string',
  choices: METRICS_CHOICES,
  default: 'auto',
  valueName: 'auto|emf|human|off',
  description:
    'Metric lines: emf (CloudWatch Embedded Metric Format JSON on stderr), human (log lines), off; auto: emf ' +
    'inside Lambda or ECS, where CloudWatch collects them, human elsewhere',
};

/**
 * The format `--metrics` asks for. `auto` is EMF only where CloudWatch collects the lines: inside
 * Lambda (AWS_LAMBDA_FUNCTION_NAME) or an ECS task (ECS_CONTAINER_METADATA_URI_V4); on a terminal
 * or a plain host they would only be noise, so humans get log lines.
 */
export function chooseMetricsFormat(
  flag: MetricsFormat | 'auto',
  env: Readonly<Record<string, string | undefined>>,
): MetricsFormat {
  if (flag !== 'auto') return flag;
  return env['AWS_LAMBDA_FUNCTION_NAME'] || env['ECS_CONTAINER_METADATA_URI_V4'] ? 'emf' : 'human';
}

/** Fields of an EMF line that a human reads, renamed; `_aws` and the rest are dropped. */
const HUMAN_FIELDS: readonly [string, string][] = [
  ['Cluster', 'cluster'],
  ['Timeline', 'timeline'],
  ['file', 'file'],
  ['end', 'end'],
  ['Segments', 'segments'],
  ['ArchivedBytes', 'bytes'],
  ['StoredBytes', 'storedBytes'],
  ['ArchiveLagSeconds', 'lagSeconds'],
];

/**
 * Where the archiver's metric lines (EMF JSON, one per flush) go in `format`: as they are to
 * `stderr`, as an info log line (`segments stored` / `caught up`) through `logger`, or nowhere.
 */
export function metricsSink(
  format: MetricsFormat,
  stderr: { write(text: string): unknown },
  logger: Logger,
): ((line: string) => void) | undefined {
  switch (format) {
    case 'off':
      return undefined;
    case 'emf':
      return (line) => void stderr.write(`${line}\n`);
    case 'human':
      return (line) => {
        // the archiver's own EMF line (formatArchiveMetrics): a JSON object
        const parsed: unknown = JSON.parse(line);
        const m = new Map<string, unknown>(
          typeof parsed === 'object' && parsed !== null ? Object.entries(parsed) : [],
        );
        const fields: Record<string, unknown> = {};
        for (const [from, to] of HUMAN_FIELDS) if (m.get(from) !== undefined) fields[to] = m.get(from);
        logger.info(
          m.get('Segments') === 0 ? 'archive caught up, nothing to store' : 'segments stored',
          fields,
        );
      };
  }
}
