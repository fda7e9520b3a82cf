// Public surface of @portico/gateway (used by the CLI, tests and benchmarks).
export { loadConfig, ConfigError, type Config } from './config.ts';
export { createGateway, type Gateway, type GatewayOptions } from './server.ts';
export { serve, runMigrations } from './main.ts';
export { ERRORS, GatewayError, type ErrorCode } from './errors.ts';
export { rotateMasterKey } from './credentials/rotate.ts';
