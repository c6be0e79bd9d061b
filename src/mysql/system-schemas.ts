/**
 * The schemas a server keeps for itself: never dumped, never counted as user data on a restore
 * target. `mysql` holds grants and time zones; the other three are views of the running server.
 */
export const SYSTEM_SCHEMAS: readonly string[] = Object.freeze([
  'mysql',
  'information_schema',
  'performance_schema',
  'sys',
]);
