import type { ClusterSection } from './deployment-cluster-settings.js';
import type { ArchiverConfig } from './deployment-config-sections.js';

/**
 * A cluster's `archiver`: flush and segment sizes, and the Fargate size of its task (whether
 * Fargate offers that cpu/memory pair is checked by the cluster reader, `checkFargateSize`).
 */
export const ARCHIVER_SECTION: ClusterSection<ArchiverConfig> = {
  name: 'archiver',
  keys: ['flushIntervalSeconds', 'segmentSizeMiB', 'cpu', 'memoryMiB'],
  builtin: { flushIntervalSeconds: 1, segmentSizeMiB: 64, cpu: 256, memoryMiB: 512 },
  read(f) {
    const v = f.v;
    return f.complete<ArchiverConfig>({
      flushIntervalSeconds: f.required('flushIntervalSeconds', (x, p) => v.number(x, p, 0, 300, ' seconds')),
      segmentSizeMiB: f.required('segmentSizeMiB', (x, p) => v.integer(x, p, 1, 1024, ' MiB')),
      cpu: f.required('cpu', (x, p) => v.integer(x, p, 256, 16384, ' CPU units')),
      memoryMiB: f.required('memoryMiB', (x, p) => v.integer(x, p, 512, 122880, ' MiB')),
    });
  },
};
