export {
  JOB_ENV_VAR,
  JOB_MESSAGE_SCHEMA,
  jobIdempotencyKey,
  normaliseScheduledAt,
  parseJobMessage,
  JOB_MESSAGE_FIELDS,
  type JobMessage,
} from './job-message.js';
export {
  JOB_CLUSTERS_ENV,
  IMAGE_CA_BUNDLE,
  clusterJobSettings,
  parseClusterJobSettings,
  resolveJob,
  type ClusterJobSettings,
  type ResolvedJob,
} from './cluster-job-settings.js';
export {
  DISPATCHER_ENV,
  readDispatchTargets,
  type DispatchTargets,
  type FargateJobTarget,
} from './dispatch-targets.js';
export {
  ecsClientToken,
  planDispatch,
  type DispatchPlan,
  type EcsRunTaskInput,
  type ScheduleEvent,
  type SqsSendMessageInput,
} from './plan-dispatch.js';
export { executeDispatch, type DispatchPorts, type DispatchResult } from './execute-dispatch.js';
export type { JobContext, JobFunctions, JobOutcome } from './job-functions.js';
export { CLUSTER_DIMENSION, METRIC, METRICS_NAMESPACE, emfLine, type MetricsSink } from './job-metrics.js';
export {
  jobMarkerKeys,
  runJob,
  type JobMarkerKeys,
  type JobRunResult,
  type JobRunStatus,
  type RunJobDeps,
} from './run-job.js';
export { runJobBatch, type BatchResponse, type JobRecord } from './run-job-batch.js';
export { parseS3RepositoryUrl, type S3RepositoryLocation } from './s3-repository-url.js';
