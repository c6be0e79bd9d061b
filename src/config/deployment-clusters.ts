import { readCluster } from './deployment-cluster.js';
import type { ClusterDefaults } from './deployment-cluster-settings.js';
import type { ClusterConfig } from './deployment-config-sections.js';
import { describe, type Validator } from './deployment-validator.js';

/** `clusters` (required): at least one cluster, names unique. Undefined when any cluster is invalid. */
export function readClusters(
  v: Validator,
  value: unknown,
  defaults: ClusterDefaults,
): ClusterConfig[] | undefined {
  if (value === undefined) return v.fail('clusters', 'is required: a list with at least one cluster');
  if (!Array.isArray(value) || value.length === 0) {
    return v.fail('clusters', `must be a list with at least one cluster, not ${describe(value)}`);
  }
  const out: ClusterConfig[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  value.forEach((raw, i) => {
    const c = readCluster(v, raw, i, defaults);
    if (!c) {
      ok = false;
      return;
    }
    const first = seen.get(c.name);
    if (first !== undefined) {
      v.fail(
        `clusters[${i}].name`,
        `'${c.name}' is already used by clusters[${first}]; cluster names must be unique`,
      );
      ok = false;
      return;
    }
    seen.set(c.name, i);
    out.push(c);
  });
  return ok ? out : undefined;
}
