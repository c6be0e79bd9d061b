export {
  loadConfig,
  CONFIG_FILE_OPTION,
  specEnvNames,
  type LoadedConfig,
  type ConfigValues,
  type ConfigValue,
} from './load-config.js';
export { defaultEnvName, type OptionSpec, type OptionType } from './option-spec.js';
export { ConfigError } from './config-error.js';
export { parseDuration, formatDuration } from './duration.js';
export { OptionValues } from './option-values.js';
export { parseMysqlUrl, splitMysqlUrls, formatEndpoint } from './mysql-url.js';
export { readSecret } from './read-secret.js';
export { nearestName, checkConfigFileKeys, checkEnvironment, ENV_PREFIX } from './unknown-settings.js';
