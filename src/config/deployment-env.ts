import type { DeploymentConfig } from './deployment-config-sections.js';
import { SectionFields } from './deployment-section-fields.js';
import type { Validator } from './deployment-validator.js';

const ACCOUNT_RE = /^\d{12}$/;
const REGION_RE = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

/**
 * `env`: the target account and region, each optional; absent ones leave the stack
 * environment-agnostic. Never fails as a whole: a bad field is reported and left undefined.
 */
export function readEnvSection(v: Validator, value: unknown): DeploymentConfig['env'] {
  if (value === undefined) return { account: undefined, region: undefined };
  const obj = v.object(value, 'env', ['account', 'region']);
  if (!obj) return { account: undefined, region: undefined };
  const f = SectionFields.of(v, obj, 'env');
  return {
    account: f.maybe('account', (x, p) => v.string(x, p, ACCOUNT_RE, 'a 12-digit AWS account id')),
    region: f.maybe('region', (x, p) => v.string(x, p, REGION_RE, 'a region such as eu-west-1')),
  };
}
