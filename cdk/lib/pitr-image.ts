import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { ImageConfig } from '../../src/config/deployment-config.js';

/** Where the Dockerfile puts the built project inside the image. */
export const IMAGE_APP_DIR = '/app';

/**
 * The mysql-pitr container image (built from the repository's Dockerfile and pushed to ECR before
 * deploying), used by the archiver service, the Fargate job tasks and the worker Lambda.
 *
 * It is referenced by ECR repository and tag rather than built by CDK (`fromAsset`), so `cdk
 * synth` and `cdk deploy` need no Docker daemon and every environment runs the exact image that
 * was tested; see docs/deployment.md for the build and push commands.
 */
export class PitrImage extends Construct {
  readonly repository: ecr.IRepository;
  /** Tag or `sha256:` digest. */
  readonly tagOrDigest: string;

  constructor(scope: Construct, id: string, props: { image: ImageConfig; tagOverride?: string }) {
    super(scope, id);
    const { repository } = props.image;
    this.repository = repository.startsWith('arn:')
      ? ecr.Repository.fromRepositoryArn(this, 'Repository', repository)
      : ecr.Repository.fromRepositoryName(this, 'Repository', repository);
    this.tagOrDigest = props.tagOverride ?? props.image.tag;
  }

  /** The image for an ECS container definition. */
  ecsImage(): ecs.ContainerImage {
    return ecs.ContainerImage.fromEcrRepository(this.repository, this.tagOrDigest);
  }

  /** The image as Lambda code, running `command` (argv after the entry point). */
  lambdaCode(entrypoint: string[], cmd: string[]): lambda.DockerImageCode {
    return lambda.DockerImageCode.fromEcr(this.repository, {
      tagOrDigest: this.tagOrDigest,
      entrypoint,
      cmd,
    });
  }
}
