// The supervisor's side of the shared log schema (logging/logger.ts): its modules import their
// Logger from here, so where lines go and how they look is decided in one place.
export {
  createLogger,
  errorFields,
  logSettings,
  silentLogger,
  type Level,
  type LogFields,
  type Logger,
} from '../../logging/logger.ts';
