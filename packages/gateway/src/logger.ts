// Structured logs with pino. Secrets are redacted by path, and request logs never include
// headers or bodies, so a key can only reach a log line by a bug that these paths also catch.
import pino, { type Logger } from 'pino';

const SECRET_FIELDS = ['authorization', 'cookie', 'xi-api-key', 'x-api-key', 'secret', 'key', 'token', 'password', 'api_key', 'master_key', 'admin_token'];

export const REDACT_PATHS = [
  ...SECRET_FIELDS.flatMap((f) => [`req.headers["${f}"]`, `headers["${f}"]`, `*["${f}"]`, `*.*["${f}"]`]),
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Asynchronous writes keep logging off the request's critical path.
    destination ?? pino.destination({ sync: false }),
  );
}
