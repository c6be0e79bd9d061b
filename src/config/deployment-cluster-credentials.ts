import type { ClusterSection } from './deployment-cluster-settings.js';
import type { CredentialsConfig } from './deployment-config-sections.js';
import type { Validator } from './deployment-validator.js';

const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const SECRET_NAME_RE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** A cluster's `credentials`: the Secrets Manager secret holding the password, and its JSON key. */
export const CREDENTIALS_SECTION: ClusterSection<CredentialsConfig> = {
  name: 'credentials',
  keys: ['secret', 'passwordKey'],
  builtin: { passwordKey: 'password' },
  read(f) {
    const v = f.v;
    return f.complete<CredentialsConfig>({
      secret: f.required('secret', (x, p) => readSecretRef(v, x, p)),
      passwordKey: f.required('passwordKey', (x, p) => v.string(x, p)),
    });
  },
};

function readSecretRef(v: Validator, value: unknown, path: string): string | undefined {
  const s = v.string(value, path, undefined, 'a Secrets Manager secret name or ARN');
  if (s === undefined) return undefined;
  if (s.startsWith('arn:')) {
    return SECRET_ARN_RE.test(s)
      ? s
      : v.fail(
          path,
          `'${s}' is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf)`,
        );
  }
  return SECRET_NAME_RE.test(s)
    ? s
    : v.fail(path, `'${s}' is not a Secrets Manager secret name (letters, digits and /_+=.@- only) or ARN`);
}
