/**
 * The `compact` job kind in the stack: hourly by default (the archiver's role cannot delete, so this
 * job is how a deployment compacts), `off` removes the rule, and `schedules.compact` sets it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildPitrApp } from '../../cdk/lib/build-pitr-app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'cdk/clusters.example.json');

type Resource = { Properties: Record<string, unknown> };

/** `cluster/job` -> schedule expression of every rule of the stack built from `config`. */
function schedules(config: unknown): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'pitr-cdk-compact-'));
  try {
    const path = join(dir, 'clusters.json');
    writeFileSync(path, JSON.stringify(config));
    const stack = buildPitrApp(new App({ outdir: join(dir, 'out') }), {
      configPath: path,
      projectRoot: ROOT,
    });
    const out = new Map<string, string>();
    for (const r of Object.values(
      Template.fromStack(stack).findResources('AWS::Events::Rule'),
    ) as Resource[]) {
      const target = (r.Properties['Targets'] as Array<Record<string, unknown>>)[0]!;
      const template = (target['InputTransformer'] as { InputTemplate: string }).InputTemplate;
      const input = JSON.parse(template.replace(/<([a-z-]+)>/g, '"$1"')) as Record<string, string>;
      out.set(`${input['cluster']}/${input['job']}`, r.Properties['ScheduleExpression'] as string);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('cdk: the compact job schedule', () => {
  it('is hourly by default, off with schedules.compact "off", and set by schedules.compact', () => {
    const config = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { clusters: Array<Record<string, unknown>> };
    const name = config.clusters[0]!['name'] as string;
    assert.equal(schedules(config).get(`${name}/compact`), 'cron(20 * * * ? *)', 'hourly by default');
    const off = structuredClone(config);
    off.clusters[0]!['schedules'] = {
      ...(off.clusters[0]!['schedules'] as object | undefined),
      compact: 'off',
    };
    assert.equal(schedules(off).has(`${name}/compact`), false, 'no compact rule when off');
    config.clusters[0]!['schedules'] = {
      ...(config.clusters[0]!['schedules'] as object | undefined),
      compact: 'cron(0 5 * * ? *)',
    };
    const rules = schedules(config);
    assert.equal(rules.get(`${name}/compact`), 'cron(0 5 * * ? *)');
    assert.equal(
      [...rules.keys()].filter((k) => k.endsWith('/compact')).length,
      config.clusters.length,
      'one compact rule per cluster',
    );
  });
});
