import type { ImageConfig } from './deployment-config-sections.js';
import { SectionFields } from './deployment-section-fields.js';
import type { Validator } from './deployment-validator.js';

const ECR_NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const ECR_ARN_RE = /^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository\/[a-z0-9]+(?:[._/-][a-z0-9]+)*$/;
const IMAGE_TAG_RE = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$/;

/** `image` (required): the ECR repository (name or ARN) and the tag or digest of the mysql-pitr image. */
export function readImageSection(v: Validator, value: unknown): ImageConfig | undefined {
  if (value === undefined)
    return v.fail('image', 'is required: { "repository": "mysql-pitr", "tag": "0.1.0" } (see cdk/README.md)');
  const obj = v.object(value, 'image', ['repository', 'tag']);
  if (!obj) return undefined;
  const f = SectionFields.of(v, obj, 'image');
  return f.complete<ImageConfig>({
    repository: f.required('repository', (x, p) => readEcrRepository(v, x, p)),
    tag: f.required('tag', (x, p) =>
      v.string(x, p, IMAGE_TAG_RE, 'an image tag such as 0.1.0 or a digest sha256:…'),
    ),
  });
}

function readEcrRepository(v: Validator, value: unknown, path: string): string | undefined {
  const s = v.string(value, path);
  if (s === undefined) return undefined;
  if (s.startsWith('arn:') ? !ECR_ARN_RE.test(s) : !ECR_NAME_RE.test(s) || s.length > 256) {
    return v.fail(path, `'${s}' is not an ECR repository name (e.g. mysql-pitr) or ARN`);
  }
  return s;
}
