import type { ClusterSection } from './deployment-cluster-settings.js';
import { WORKER_KINDS, type ClusterConfig } from './deployment-config-sections.js';

/** A cluster's `workers`: where each job kind runs, `lambda` or `fargate`. */
export const WORKERS_SECTION: ClusterSection<ClusterConfig['workers']> = {
  name: 'workers',
  keys: ['dump', 'expire', 'verify', 'compact'],
  builtin: { dump: 'fargate', expire: 'lambda', verify: 'lambda', compact: 'lambda' },
  read(f) {
    const v = f.v;
    return f.complete<ClusterConfig['workers']>({
      dump: f.required('dump', (x, p) => v.oneOf(x, p, WORKER_KINDS)),
      expire: f.required('expire', (x, p) => v.oneOf(x, p, WORKER_KINDS)),
      verify: f.required('verify', (x, p) => v.oneOf(x, p, WORKER_KINDS)),
      compact: f.required('compact', (x, p) => v.oneOf(x, p, WORKER_KINDS)),
    });
  },
};
