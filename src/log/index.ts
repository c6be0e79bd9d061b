export {
  createLogger,
  silentLogger,
  type Logger,
  type LogLevel,
  type LogFields,
  type LoggerOptions,
} from './logger.js';
export { redactUrl } from './redact-url.js';
