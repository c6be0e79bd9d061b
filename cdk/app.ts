/**
 * CDK app entry: `cd cdk && npx cdk synth` (config from `-c config=FILE`, default in cdk.json).
 *
 * The deployment config is validated before any construct is made, so a bad config fails synth
 * at once with every problem listed (field path, what is allowed), and exit code 2.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { buildPitrApp } from './lib/build-pitr-app.js';

const app = new App();
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const cdkDir = fileURLToPath(new URL('.', import.meta.url));
const configContext = app.node.tryGetContext('config') as string | undefined;
const imageTag = app.node.tryGetContext('imageTag') as string | undefined;
try {
  buildPitrApp(app, {
    configPath: resolve(cdkDir, configContext ?? 'clusters.json'),
    projectRoot,
    ...(imageTag ? { imageTag } : {}),
  });
} catch (err) {
  const code = (err as { code?: unknown }).code;
  if (code === 'CONFIG_INVALID') {
    process.stderr.write(`mysql-pitr cdk: ${(err as Error).message}\n`);
    process.exit(2);
  }
  throw err;
}
app.synth();
