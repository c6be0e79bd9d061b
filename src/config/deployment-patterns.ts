/** A pattern a string field must match, and how its problem describes what is expected. */
export interface FieldPattern {
  readonly re: RegExp;
  readonly hint: string;
}

/**
 * The names and AWS ids that more than one section of the deployment config checks (a pattern
 * used by one section only lives in that section's reader).
 */
export const DEPLOYMENT_PATTERNS = {
  /** The deployment and every cluster: it becomes part of AWS resource names and DNS labels. */
  dnsName: {
    re: /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/,
    hint: "a DNS-safe name: lowercase letters, digits and '-', 1-32 characters, starting with a letter",
  },
  /** `alarms.topicArn` and a cluster's `alarms.topicArn`. */
  snsTopicArn: {
    re: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/,
    hint: 'an SNS topic ARN arn:aws:sns:REGION:ACCOUNT:NAME',
  },
  /** `network.securityGroupIds[]` and a cluster's `source.securityGroupId`. */
  securityGroupId: { re: /^sg-[0-9a-f]{8,17}$/, hint: 'a security group id sg-…' },
  /** A dotted IPv4 address: a source host may be one, an S3 bucket name must not look like one. */
  ipv4: {
    re: /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/,
    hint: 'an IPv4 address',
  },
} as const satisfies Record<string, FieldPattern>;
