import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sourcePassword, type SecretReader } from '../../lambdas/job-functions.js';

const job = {
  cluster: 'orders',
  credentials: { secret: 'arn:aws:secretsmanager:eu-west-1:1:secret:orders', passwordKey: 'password' },
};
const secrets =
  (value: string): SecretReader =>
  async () =>
    value;

describe('worker password lookup', () => {
  it('prefers the ECS secret in the environment and does not call Secrets Manager', async () => {
    const never: SecretReader = () => Promise.reject(new Error('must not be called'));
    assert.equal(await sourcePassword(job, { MYSQL_PITR_SOURCE_PASSWORD: 'from-env' }, never), 'from-env');
  });

  it('reads the passwordKey field of a JSON secret', async () => {
    assert.equal(
      await sourcePassword(job, {}, secrets('{"username":"backup","password":"s3cr3t"}')),
      's3cr3t',
    );
  });

  it('takes a plain-text secret as the password itself', async () => {
    assert.equal(await sourcePassword(job, {}, secrets('plain-pw')), 'plain-pw');
  });

  it('names the secret and the missing field when the JSON secret lacks it', async () => {
    await assert.rejects(
      sourcePassword(job, {}, secrets('{"pass":"x"}')),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CONFIG_INVALID');
        assert.match(
          err.message,
          /secret arn:aws:secretsmanager:eu-west-1:1:secret:orders .*has no string field "password"/,
        );
        return true;
      },
    );
  });

  it('says what to check when Secrets Manager refuses', async () => {
    const denied: SecretReader = () => Promise.reject(new Error('AccessDeniedException: not authorized'));
    await assert.rejects(sourcePassword(job, {}, denied), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, /cannot read the password of cluster orders .*AccessDenied.*GetSecretValue/);
      return true;
    });
  });
});
