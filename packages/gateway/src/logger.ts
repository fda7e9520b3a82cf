// Structured logs with pino. Secrets are redacted by path, and request logs never include
// headers or bodies, so a key can only reach a log line by a bug that these paths also catch.
import pino, { type Logger } from 'pino';

// Explicit paths plus one level of wildcard: pino's redaction cost grows quickly with deeper
// wildcards (two levels made every log line ~10× slower), and log lines are on every request.
const HEADER_SECRETS = ['authorization', 'cookie', 'xi-api-key', 'x-api-key', 'proxy-authorization'];
const FIELD_SECRETS = ['secret', 'key', 'token', 'password', 'api_key', 'master_key', 'admin_token', 'authorization'];

export const REDACT_PATHS = [...HEADER_SECRETS.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]), ...FIELD_SECRETS.flatMap((f) => [f, `*.${f}`])];

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
