// `portico migrate`: apply pending database migrations and say which ran.
import { JSON_OPTION, type Command } from '../lib/command.ts';
import { out, plural, printJson } from '../lib/output.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations to $PORTICO_DATABASE_URL and list them.',
  description: '`portico serve` applies them too; this command is for deployments that migrate as a separate step.',
  options: { ...JSON_OPTION },
  examples: ['portico migrate', 'PORTICO_DATABASE_URL=postgres://portico@db/portico portico migrate --json'],
  async run(p) {
    const { runMigrations } = await import('@portico/gateway');
    const applied = await runMigrations(process.env);
    if (p.values.json) {
      printJson({ applied });
      return;
    }
    if (applied.length === 0) out('The database is up to date: no migration to apply.');
    else out(`Applied ${plural(applied.length, 'migration')}:\n${applied.map((m) => `  ${m}`).join('\n')}`);
  },
};
