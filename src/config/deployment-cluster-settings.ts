import { ALARMS_SECTION } from './deployment-cluster-alarms.js';
import { ARCHIVER_SECTION } from './deployment-cluster-archiver.js';
import { CREDENTIALS_SECTION } from './deployment-cluster-credentials.js';
import { RETENTION_SECTION } from './deployment-cluster-retention.js';
import { SCHEDULES_SECTION } from './deployment-cluster-schedules.js';
import { SOURCE_SECTION } from './deployment-cluster-source.js';
import { WORKERS_SECTION } from './deployment-cluster-workers.js';
import { SectionFields, type FieldSource } from './deployment-section-fields.js';
import type { Validator } from './deployment-validator.js';

/**
 * One object section of a cluster entry (`source`, `schedules`, ...): its keys, its built-in
 * values and its reader. `defaults.<name>` may set every key but the `perCluster` ones.
 */
export interface ClusterSection<T> {
  readonly name: string;
  /** The keys allowed in the section, in the order a problem lists them. */
  readonly keys: readonly string[];
  /** Keys only a cluster may set: a host in defaults would point every cluster at one server. */
  readonly perCluster?: readonly string[];
  /** Built-in values, overridden by `defaults.<name>` and then by the cluster's own section. */
  readonly builtin: Readonly<Record<string, unknown>>;
  /** The section from its fields, or undefined (with the problems reported) when any is invalid. */
  read(fields: SectionFields): T | undefined;
}

/** Every object section of a cluster, in the order they are read and their problems reported. */
export const CLUSTER_SECTIONS: readonly ClusterSection<unknown>[] = [
  SOURCE_SECTION,
  CREDENTIALS_SECTION,
  SCHEDULES_SECTION,
  RETENTION_SECTION,
  ARCHIVER_SECTION,
  WORKERS_SECTION,
  ALARMS_SECTION,
];

/** The settings a cluster entry (after its `name`) and `defaults` may hold, in the order a problem lists them. */
export const CLUSTER_SETTING_KEYS = [
  'source',
  'flavour',
  'credentials',
  'schedules',
  'retention',
  'archiver',
  'workers',
  'alarms',
] as const;

/** What `defaults` holds: the raw `flavour` and each section object, checked for unknown keys only. */
export type ClusterDefaults = Partial<Record<(typeof CLUSTER_SETTING_KEYS)[number], unknown>>;

/**
 * The settings of one cluster entry: each value comes from the cluster's own section, else from
 * `defaults`, else built in, and a problem names where it came from (`clusters[1].source.port` or
 * `defaults.source.port`).
 */
export class ClusterSettings {
  private readonly own = new Map<string, Record<string, unknown> | undefined>();

  /** Reports the unknown keys of each of the cluster's own sections (`base` is `clusters[i]`). */
  constructor(
    private readonly v: Validator,
    private readonly base: string,
    private readonly cluster: Record<string, unknown>,
    private readonly defaults: ClusterDefaults,
  ) {
    for (const section of CLUSTER_SECTIONS) {
      const raw = cluster[section.name];
      if (raw !== undefined)
        this.own.set(section.name, v.object(raw, `${base}.${section.name}`, section.keys));
    }
  }

  /** Reads `section` with cluster > defaults > built-in precedence. */
  read<T>(section: ClusterSection<T>): T | undefined {
    return section.read(this.fields(section));
  }

  /** The path a problem about `section.key` names: where the value was set, else the cluster's own. */
  path(section: ClusterSection<unknown>, key: string): string {
    return this.pick(section, key).path;
  }

  /** The fields of `section` (a required one names the places it can be set: a per-cluster one only the cluster). */
  private fields(section: ClusterSection<unknown>): SectionFields {
    const name = section.name;
    return new SectionFields(
      this.v,
      (key) => this.pick(section, key),
      (key) =>
        section.perCluster?.includes(key)
          ? `is required: set it in ${this.base}.${name} (each cluster names its own; defaults.${name} cannot hold it)`
          : `is required (set it in ${this.base}.${name} or in defaults.${name})`,
    );
  }

  /** The cluster's `flavour`, else `defaults.flavour` (no built-in: MariaDB and MySQL differ too much). */
  flavour(): FieldSource {
    return this.cluster['flavour'] !== undefined
      ? { value: this.cluster['flavour'], path: `${this.base}.flavour` }
      : { value: this.defaults.flavour, path: 'defaults.flavour' };
  }

  private pick(section: ClusterSection<unknown>, key: string): FieldSource {
    const own = this.own.get(section.name);
    if (own && own[key] !== undefined)
      return { value: own[key], path: `${this.base}.${section.name}.${key}` };
    const def = this.defaults[section.name as keyof ClusterDefaults] as Record<string, unknown> | undefined;
    if (def && def[key] !== undefined) return { value: def[key], path: `defaults.${section.name}.${key}` };
    return { value: section.builtin[key], path: `${this.base}.${section.name}.${key}` };
  }
}
