import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { ClusterConfig, NetworkConfig } from '../../src/config/deployment-config.js';

export interface PitrNetworkProps {
  readonly network: NetworkConfig;
  readonly clusters: readonly ClusterConfig[];
}

/**
 * Where the archivers and job workers run: a new VPC (private subnets behind NAT, plus a free S3
 * gateway endpoint so binlog uploads do not pay NAT data charges), or an existing VPC named by
 * explicit ids (no `Vpc.fromLookup`, so synth needs no network). One security group is attached
 * to every archiver and worker; each database whose security group is in the config admits it.
 */
export class PitrNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  /** The private subnets every task and the worker Lambda use. */
  readonly subnets: ec2.SubnetSelection;
  /** Attached to every archiver, job task and the worker Lambda. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /** The security group this stack creates (the first of `securityGroups`). */
  readonly workloadSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: PitrNetworkProps) {
    super(scope, id);
    const net = props.network;
    if (net.kind === 'create') {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(net.cidr),
        ...(net.availabilityZones
          ? { availabilityZones: [...net.availabilityZones] }
          : { maxAzs: net.maxAzs }),
        natGateways: net.natGateways,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
        gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      });
      this.vpc = vpc;
      this.subnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    } else {
      // Zones only matter when selecting subnets by type, and we always select them by id; CDK
      // merely needs a non-empty list, so give one that resolves at deploy time without a lookup.
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: net.vpcId,
        availabilityZones: [Fn.select(0, Fn.getAzs())],
      });
      this.subnets = {
        subnets: net.subnetIds.map((subnetId, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, subnetId)),
      };
    }
    this.workloadSecurityGroup = new ec2.SecurityGroup(this, 'WorkloadSecurityGroup', {
      vpc: this.vpc,
      description: 'mysql-pitr archivers and job workers (egress to databases, S3, SQS, AWS APIs)',
      allowAllOutbound: true,
    });
    const extra =
      net.kind === 'existing'
        ? net.securityGroupIds.map((sg, i) =>
            ec2.SecurityGroup.fromSecurityGroupId(this, `Extra${i}`, sg, { mutable: false }),
          )
        : [];
    this.securityGroups = [this.workloadSecurityGroup, ...extra];
    for (const cluster of props.clusters) {
      if (cluster.source.securityGroupId === undefined) continue;
      new ec2.CfnSecurityGroupIngress(this, `DatabaseIngress-${cluster.name}`, {
        groupId: cluster.source.securityGroupId,
        sourceSecurityGroupId: this.workloadSecurityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: cluster.source.port,
        toPort: cluster.source.port,
        description: `mysql-pitr archiver and jobs to ${cluster.name}`,
      });
    }
  }
}
