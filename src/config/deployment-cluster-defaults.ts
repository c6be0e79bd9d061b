import {
  CLUSTER_SECTIONS,
  CLUSTER_SETTING_KEYS,
  type ClusterDefaults,
} from './deployment-cluster-settings.js';
import type { Validator } from './deployment-validator.js';

/**
 * `defaults` (optional): values every cluster takes unless it sets its own. Only the keys are
 * checked here; each value is read, and blamed on `defaults.<section>.<key>`, by the clusters
 * that use it.
 */
export function readClusterDefaults(v: Validator, value: unknown): ClusterDefaults {
  if (value === undefined) return {};
  const obj = v.object(value, 'defaults', CLUSTER_SETTING_KEYS);
  if (!obj) return {};
  const out: ClusterDefaults = {};
  for (const key of CLUSTER_SETTING_KEYS) {
    const raw = obj[key];
    if (raw === undefined) continue;
    const section = CLUSTER_SECTIONS.find((s) => s.name === key);
    if (!section) {
      out[key] = raw; // flavour: a single value
      continue;
    }
    const perCluster = section.perCluster ?? [];
    const allowed = section.keys.filter((k) => !perCluster.includes(k));
    const given = isRecord(raw) ? raw : undefined;
    // a per-cluster key is known, just not here: say where it goes instead of "unknown field"
    for (const k of perCluster) {
      if (given?.[k] === undefined) continue;
      v.fail(
        `defaults.${key}.${k}`,
        `cannot be a default: one value would point every cluster at the same server. Set ${key}.${k} in ` +
          `each cluster instead (e.g. clusters[0].${key}.${k}) and remove it from defaults.${key}. ` +
          `Allowed here: ${allowed.join(', ')}`,
      );
    }
    const rest = given && Object.fromEntries(Object.entries(given).filter(([k]) => !perCluster.includes(k)));
    const sec = v.object(rest ?? raw, `defaults.${key}`, allowed);
    if (sec) out[key] = sec;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
