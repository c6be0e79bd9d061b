import { ALARMS_SECTION } from './deployment-cluster-alarms.js';
import { ARCHIVER_SECTION } from './deployment-cluster-archiver.js';
import { CREDENTIALS_SECTION } from './deployment-cluster-credentials.js';
import { RETENTION_SECTION } from './deployment-cluster-retention.js';
import { SCHEDULES_SECTION } from './deployment-cluster-schedules.js';
import {
  CLUSTER_SETTING_KEYS,
  ClusterSettings,
  type ClusterDefaults,
} from './deployment-cluster-settings.js';
import { SOURCE_SECTION } from './deployment-cluster-source.js';
import { WORKERS_SECTION } from './deployment-cluster-workers.js';
import { FLAVOURS, type ClusterConfig, type Flavour } from './deployment-config-sections.js';
import { checkFargateSize } from './deployment-fargate-size.js';
import { DEPLOYMENT_PATTERNS } from './deployment-patterns.js';
import { SectionFields } from './deployment-section-fields.js';
import type { Validator } from './deployment-validator.js';

/**
 * `clusters[index]`: its name and each section, every value from the cluster, else `defaults`,
 * else built in. Returns undefined when anything is invalid (each problem is reported).
 */
export function readCluster(
  v: Validator,
  raw: unknown,
  index: number,
  defaults: ClusterDefaults,
): ClusterConfig | undefined {
  const base = `clusters[${index}]`;
  const obj = v.object(raw, base, ['name', ...CLUSTER_SETTING_KEYS]);
  if (!obj) return undefined;
  const s = new ClusterSettings(v, base, obj, defaults);
  const { re, hint } = DEPLOYMENT_PATTERNS.dnsName;
  const name = SectionFields.of(v, obj, base).required('name', (x, p) => v.string(x, p, re, hint));
  const source = s.read(SOURCE_SECTION);
  const flavour = readFlavour(v, s, base);
  const credentials = s.read(CREDENTIALS_SECTION);
  const schedules = s.read(SCHEDULES_SECTION);
  const retention = s.read(RETENTION_SECTION);
  const archiver = s.read(ARCHIVER_SECTION);
  // Whether Fargate offers the archiver's cpu/memory pair, asked only once all before is valid.
  const sized =
    name !== undefined &&
    source !== undefined &&
    flavour !== undefined &&
    credentials !== undefined &&
    schedules !== undefined &&
    retention !== undefined &&
    archiver !== undefined &&
    checkFargateSize(
      v,
      archiver.cpu,
      archiver.memoryMiB,
      s.path(ARCHIVER_SECTION, 'memoryMiB'),
      s.path(ARCHIVER_SECTION, 'cpu'),
    );
  const workers = s.read(WORKERS_SECTION);
  const alarms = s.read(ALARMS_SECTION);
  if (!sized || workers === undefined || alarms === undefined) return undefined;
  return { name, source, flavour, credentials, schedules, retention, archiver, workers, alarms };
}

function readFlavour(v: Validator, s: ClusterSettings, base: string): Flavour | undefined {
  const { value, path } = s.flavour();
  return value === undefined
    ? v.fail(`${base}.flavour`, `is required: 'mariadb' or 'mysql' (set it here or in defaults.flavour)`)
    : v.oneOf(value, path, FLAVOURS);
}
