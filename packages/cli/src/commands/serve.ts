// `portico serve`: the gateway in the foreground (SPEC §2). Configuration comes from the
// environment; the few options here only set the matching variables.
import { intOption, str, type Command } from '../lib/command.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the gateway in the foreground (configured by PORTICO_* environment variables).',
  description: [
    'Listens on $PORTICO_HOST:$PORTICO_PORT (default 127.0.0.1:8080) with the database in',
    '$PORTICO_DATABASE_URL (default sqlite:./data/portico.db, created with its migrations on first',
    'start). SIGINT/SIGTERM stop it gracefully. A configuration error exits 1 naming the variable.',
  ].join('\n'),
  options: {
    port: { type: 'string', value: 'N', help: 'listen port (sets PORTICO_PORT)' },
    host: { type: 'string', value: 'HOST', help: 'listen address (sets PORTICO_HOST)' },
    workers: { type: 'string', value: 'N', help: 'run N processes sharing the port and state (sets PORTICO_WORKERS)' },
  },
  examples: ['portico serve', 'PORTICO_PORT=9000 portico serve', 'portico serve --workers 4'],
  async run(p) {
    const workers = intOption(p, 'workers', 1, 1024, 'serve');
    if (workers !== undefined) process.env.PORTICO_WORKERS = String(workers);
    // The gateway validates these and names the variable when they are wrong.
    const port = str(p, 'port');
    if (port !== undefined) process.env.PORTICO_PORT = port;
    const host = str(p, 'host');
    if (host !== undefined) process.env.PORTICO_HOST = host;
    const { serve } = await import('@portico/gateway');
    await serve(process.env);
    // serve() returns once listening; the process lives until a signal closes the gateway.
    return new Promise<number>(() => {});
  },
};
