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
    const allowed = section.keys.filter((k) => !section.perCluster?.includes(k));
    const sec = v.object(raw, `defaults.${key}`, allowed);
    if (sec) out[key] = sec;
  }
  return out;
}
