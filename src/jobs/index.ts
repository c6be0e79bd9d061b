export {
  JOB_ENV_VAR,
  JOB_MESSAGE_SCHEMA,
  jobIdempotencyKey,
  normaliseScheduledAt,
  parseJobMessage,
  type JobMessage,
} from './job-message.js';
export { DISPATCHER_ENV, readDispatchTargets, type DispatchTargets, type FargateJobTarget } from './dispatch-targets.js';
export {
  ecsClientToken,
  planDispatch,
  type DispatchPlan,
  type EcsRunTaskInput,
  type ScheduleEvent,
  type SqsSendMessageInput,
} from './plan-dispatch.js';
export { executeDispatch, type DispatchPorts, type DispatchResult } from './execute-dispatch.js';
