/**
 * A minimal client of the Lambda Runtime API, so the Debian-based mysql-pitr image (which needs
 * mariadb-client for dumps) can run as a container-image Lambda without the AWS base image or the
 * native aws-lambda-ric package.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 *
 * Usage (the image's CMD for the worker function): `node dist/lambdas/lambda-runtime.js worker`
 * loads `./worker.js` and serves its `handler` export, one invocation at a time, forever.
 */
import { request } from 'node:http';

const API_VERSION = '2018-06-01';

interface RuntimeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP call to the Runtime API; no timeout, because `next` blocks until an invocation arrives. */
function call(
  api: string,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<RuntimeResponse> {
  const [host, port] = api.split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port ?? 80),
        method,
        path: `/${API_VERSION}/runtime${path}`,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function errorBody(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return JSON.stringify({
    errorType: typeof code === 'string' ? code : e.name,
    errorMessage: e.message,
    stackTrace: [],
  });
}

type Handler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

/**
 * Serves `handler` through the Runtime API at `api` (`host:port`, from AWS_LAMBDA_RUNTIME_API)
 * until the process is stopped. Exported for tests; `maxInvocations` ends the loop early.
 */
export async function serveRuntimeApi(
  api: string,
  handler: Handler,
  maxInvocations = Infinity,
): Promise<void> {
  for (let n = 0; n < maxInvocations; n++) {
    const next = await call(api, 'GET', '/invocation/next');
    const header = (name: string): string => {
      const v = next.headers[name];
      return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
    };
    const requestId = header('lambda-runtime-aws-request-id');
    const deadline = Number(header('lambda-runtime-deadline-ms'));
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: header('lambda-runtime-invoked-function-arn'),
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let result: string;
    try {
      const event: unknown = JSON.parse(next.body);
      result = JSON.stringify((await handler(event, context)) ?? null);
    } catch (err) {
      await call(api, 'POST', `/invocation/${requestId}/error`, errorBody(err), {
        'lambda-runtime-function-error-type': 'Unhandled',
      });
      continue;
    }
    await call(api, 'POST', `/invocation/${requestId}/response`, result);
  }
}

const HANDLERS: Record<string, () => Promise<{ handler: Handler }>> = {
  worker: async () => (await import('./worker.js')) as unknown as { handler: Handler },
  dispatcher: async () => (await import('./dispatcher.js')) as unknown as { handler: Handler },
};

async function main(): Promise<void> {
  const api = process.env['AWS_LAMBDA_RUNTIME_API'];
  const name = process.argv[2] ?? process.env['_HANDLER'] ?? 'worker';
  const load = HANDLERS[name.replace(/\.handler$/, '')];
  if (!api || !load) {
    process.stderr.write(
      `lambda-runtime: ${!api ? 'AWS_LAMBDA_RUNTIME_API is not set (this entry point only runs inside Lambda)' : `unknown handler '${name}'; use one of ${Object.keys(HANDLERS).join(', ')}`}\n`,
    );
    process.exitCode = 2;
    return;
  }
  let mod: { handler: Handler };
  try {
    mod = await load();
  } catch (err) {
    await call(api, 'POST', '/init/error', errorBody(err), {
      'lambda-runtime-function-error-type': 'Runtime.ImportModuleError',
    });
    throw err;
  }
  await serveRuntimeApi(api, mod.handler);
}

// Run only as the image's entry point, not when a test imports serveRuntimeApi.
if (import.meta.url === `file://${process.argv[1]}`) await main();
