/** --metrics: EMF only where CloudWatch collects it (Lambda, ECS, or asked for); human log lines elsewhere. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';

import { formatArchiveMetrics } from '../../src/archiver/index.js';
import { chooseMetricsFormat, metricsSink } from '../../src/cli/metrics-option.js';
import { createLogger } from '../../src/log/index.js';

const LINE = formatArchiveMetrics({
  timeline: '000001',
  cluster: 'orders',
  lagSeconds: 0.25,
  bytes: 2048,
  storedBytes: 512,
  segments: 1,
  time: 1_700_000_000_000,
  file: 'mysql-bin.000003',
  end: 6000,
});

function capture(): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

describe('--metrics', () => {
  it('auto is EMF inside Lambda or ECS, human elsewhere; an explicit value wins', () => {
    assert.equal(chooseMetricsFormat('auto', {}), 'human');
    assert.equal(chooseMetricsFormat('auto', { AWS_LAMBDA_FUNCTION_NAME: 'pitr-worker' }), 'emf');
    assert.equal(
      chooseMetricsFormat('auto', { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc' }),
      'emf',
    );
    assert.equal(chooseMetricsFormat('auto', { AWS_LAMBDA_FUNCTION_NAME: '' }), 'human');
    assert.equal(chooseMetricsFormat('emf', {}), 'emf');
    assert.equal(chooseMetricsFormat('human', { AWS_LAMBDA_FUNCTION_NAME: 'x' }), 'human');
    assert.equal(chooseMetricsFormat('off', {}), 'off');
  });

  it('emf writes the EMF line as it is', () => {
    const err = capture();
    const log = capture();
    metricsSink('emf', err.stream, createLogger({ stream: log.stream, json: false }))!(LINE);
    assert.equal(err.text(), `${LINE}\n`);
    assert.equal(log.text(), '');
  });

  it('human logs a line with the values and no EMF', () => {
    const err = capture();
    const log = capture();
    metricsSink('human', err.stream, createLogger({ stream: log.stream, json: false }))!(LINE);
    assert.equal(err.text(), '');
    assert.match(log.text(), /segments stored/);
    assert.match(log.text(), /mysql-bin\.000003/);
    assert.match(log.text(), /2048/);
    assert.doesNotMatch(log.text(), /_aws|CloudWatchMetrics/);
  });

  it('off writes nothing', () => {
    assert.equal(metricsSink('off', capture().stream, createLogger({ json: false })), undefined);
  });
});
