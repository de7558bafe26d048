// npm run migrate: applies migrations/ (node-pg-migrate, tracked in pgmigrations) to a database.
// Re-running applies nothing; --down rolls every migration back.
import { migrate, migrationsDir } from '../stack/migrate.ts';
import { bool, type CommandSpec, type Parsed, runCommand, str, UsageError } from './command.ts';

export const migrateCommand: CommandSpec = {
  invocation: 'npm run migrate --',
  summary:
    'Applies the SQL migrations in migrations/ (node-pg-migrate, recorded in the pgmigrations table) to a\ndatabase; a second run applies nothing. Prints each migration it applied.',
  usage: ['[--database-url postgres://...] [--down]'],
  options: {
    'database-url': {
      type: 'string',
      value: 'URL',
      description: 'the database (default: $DATABASE_URL, as `npm run system` prints it)',
    },
    down: { type: 'boolean', description: 'roll every applied migration back instead' },
  },
  examples: [
    'npm run migrate -- --database-url postgres://postgres@127.0.0.1:5432/payproof',
    'DATABASE_URL=postgres://postgres@127.0.0.1:5432/payproof npm run migrate',
    'npm run migrate -- --down --database-url postgres://...   # back to an empty schema',
  ],
  exits: '0 applied (or nothing to apply), 1 a migration failed, 64 usage error',
};

async function main(args: Parsed): Promise<number> {
  const url = str(args, 'database-url') ?? process.env.DATABASE_URL;
  if (!url) throw new UsageError('no database: pass --database-url or set DATABASE_URL');
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new UsageError(`--database-url ${url}: expected postgres://...`);
  const direction = bool(args, 'down') ? 'down' : 'up';
  try {
    const applied = await migrate(url, direction);
    for (const m of applied) console.log(`${direction === 'up' ? 'applied' : 'rolled back'} ${m}`);
    console.log(
      applied.length
        ? `${applied.length} migration(s) ${direction === 'up' ? 'applied' : 'rolled back'} from ${migrationsDir}`
        : `nothing to ${direction === 'up' ? 'apply' : 'roll back'}: the database is up to date`,
    );
    return 0;
  } catch (err) {
    console.error(`migrate: ${(err as Error).message}`);
    return 1;
  }
}

if (import.meta.main) await runCommand(migrateCommand, main);
