import type { ClusterSection } from './deployment-cluster-settings.js';
import type { SourceConfig } from './deployment-config-sections.js';
import { DEPLOYMENT_PATTERNS } from './deployment-patterns.js';
import type { Validator } from './deployment-validator.js';

const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6_RE = /^[0-9a-f:]+$/i;

/** A cluster's `source`: the server the archiver replicates from (the host only in the cluster itself). */
export const SOURCE_SECTION: ClusterSection<SourceConfig> = {
  name: 'source',
  keys: ['host', 'port', 'user', 'tls', 'securityGroupId'],
  perCluster: ['host'],
  builtin: { port: 3306, tls: true },
  read(f) {
    const v = f.v;
    const sg = DEPLOYMENT_PATTERNS.securityGroupId;
    return f.complete<SourceConfig>({
      host: f.required('host', (x, p) => readHost(v, x, p)),
      port: f.required('port', (x, p) => v.integer(x, p, 1, 65535)),
      user: f.required('user', (x, p) => v.string(x, p)),
      tls: f.required('tls', (x, p) => v.boolean(x, p)),
      securityGroupId: f.maybe('securityGroupId', (x, p) => v.string(x, p, sg.re, sg.hint)),
    });
  },
};

function readHost(v: Validator, value: unknown, path: string): string | undefined {
  const s = v.string(value, path, undefined, 'a host name or IP address');
  if (s === undefined) return undefined;
  if (/^[a-z]+:\/\//i.test(s))
    return v.fail(path, `'${s}' must be a host name only, without a scheme; e.g. db.example.com`);
  if (/^[^:]+:\d+$/.test(s))
    return v.fail(path, `'${s}' must be a host name only; put the port in source.port`);
  if (!HOST_RE.test(s) && !DEPLOYMENT_PATTERNS.ipv4.re.test(s) && !IPV6_RE.test(s)) {
    return v.fail(path, `'${s}' is not a host name or IP address`);
  }
  return s;
}
