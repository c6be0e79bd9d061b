import type {
  CreatedNetworkConfig,
  DeploymentConfig,
  ExistingNetworkConfig,
  NetworkConfig,
} from './deployment-config-sections.js';
import { DEPLOYMENT_PATTERNS } from './deployment-patterns.js';
import { SectionFields } from './deployment-section-fields.js';
import type { Validator } from './deployment-validator.js';

const VPC_RE = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_RE = /^subnet-[0-9a-f]{8,17}$/;
const AZ_RE = /^[a-z]{2}(?:-[a-z]+)+-\d[a-z]$/;
const CIDR_RE = /^(?:\d{1,3}\.){3}\d{1,3}\/(?:1[6-9]|2[0-8])$/;
const EXAMPLE = '{ "vpcId": "vpc-…", "subnetIds": ["subnet-…"] } or { "createVpc": {} }';

/**
 * `network` (required): an existing VPC by its ids (`vpcId`, `subnetIds`, `securityGroupIds`),
 * or `createVpc`, never both. `env` decides whether a created VPC must list its zones.
 */
export function readNetworkSection(
  v: Validator,
  value: unknown,
  env: DeploymentConfig['env'],
): NetworkConfig | undefined {
  if (value === undefined) return v.fail('network', `is required: ${EXAMPLE}`);
  const obj = v.object(value, 'network', ['vpcId', 'subnetIds', 'securityGroupIds', 'createVpc']);
  if (!obj) return undefined;
  const existing =
    obj['vpcId'] !== undefined || obj['subnetIds'] !== undefined || obj['securityGroupIds'] !== undefined;
  if (existing && obj['createVpc'] !== undefined) {
    return v.fail('network', 'set either vpcId/subnetIds (use an existing VPC) or createVpc, not both');
  }
  if (obj['createVpc'] !== undefined) return readCreateVpc(v, obj['createVpc'], env);
  if (!existing) return v.fail('network', `must name an existing VPC or ask for a new one: ${EXAMPLE}`);
  const f = SectionFields.of(v, obj, 'network');
  const sg = DEPLOYMENT_PATTERNS.securityGroupId;
  return f.complete<ExistingNetworkConfig>({
    kind: 'existing',
    vpcId: f.required('vpcId', (x, p) => v.string(x, p, VPC_RE, 'a VPC id vpc-0123456789abcdef0')),
    subnetIds: f.required('subnetIds', (x, p) => v.stringList(x, p, SUBNET_RE, 'subnet ids subnet-…', 1)),
    securityGroupIds: f.optional<readonly string[]>('securityGroupIds', [], (x, p) =>
      v.stringList(x, p, sg.re, 'security group ids sg-…'),
    ),
  });
}

function readCreateVpc(
  v: Validator,
  value: unknown,
  env: DeploymentConfig['env'],
): CreatedNetworkConfig | undefined {
  const c = v.object(value, 'network.createVpc', ['cidr', 'maxAzs', 'natGateways', 'availabilityZones']);
  if (!c) return undefined;
  const f = SectionFields.of(v, c, 'network.createVpc');
  const azs = f.maybe('availabilityZones', (x, p) =>
    v.stringList(x, p, AZ_RE, 'availability zones such as eu-west-1a', 1),
  );
  if (f.failed) return undefined;
  const maxAzs = f.optional('maxAzs', azs?.length ?? 2, (x, p) => v.integer(x, p, 1, 6));
  const natGateways = f.optional('natGateways', 1, (x, p) => v.integer(x, p, 1, 6));
  const cidr = f.optional('cidr', '10.0.0.0/16', (x, p) =>
    v.string(x, p, CIDR_RE, 'an IPv4 CIDR from /16 to /28 such as 10.0.0.0/16'),
  );
  if (maxAzs === undefined || natGateways === undefined || cidr === undefined) return undefined;
  if (azs && f.has('maxAzs') && maxAzs !== azs.length) {
    return v.fail(
      'network.createVpc.maxAzs',
      `${maxAzs} disagrees with the ${azs.length} availabilityZones listed; drop maxAzs`,
    );
  }
  if (natGateways > maxAzs) {
    return v.fail(
      'network.createVpc.natGateways',
      `${natGateways} is more than the ${maxAzs} availability zones; use 1 to ${maxAzs}`,
    );
  }
  if (!azs && env.account !== undefined && env.region !== undefined) {
    return v.fail(
      'network.createVpc.availabilityZones',
      'is required when env.account and env.region are both set (CDK would otherwise look the zones up over the network at synth time); ' +
        `e.g. ["${env.region}a", "${env.region}b"]`,
    );
  }
  return { kind: 'create', cidr, maxAzs, natGateways, availabilityZones: azs };
}
