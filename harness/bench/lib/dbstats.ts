// What PostgreSQL did in a phase, from its cumulative statistics (pg_stat_database and
// pg_stat_user_tables, read directly): transactions, rows read by sequential scans, index scans,
// rows written, per table. Divided by the payments of the phase, it shows how much database work
// one payment costs and where sequential scans hide.
import pg from 'pg';

export interface DbCounters {
  readonly commits: number;
  readonly rollbacks: number;
  readonly tupReturned: number;
  readonly tupFetched: number;
  readonly tupInserted: number;
  readonly tupUpdated: number;
  readonly tables: ReadonlyMap<string, TableCounters>;
}

export interface TableCounters {
  readonly seqScan: number;
  readonly seqTupRead: number;
  readonly idxScan: number;
  readonly inserted: number;
  readonly updated: number;
  readonly hotUpdated: number;
}

export async function readDbCounters(databaseUrl: string): Promise<DbCounters> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('SELECT pg_stat_clear_snapshot()');
    const d = (
      await c.query<Record<string, string>>(
        `SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated
           FROM pg_stat_database WHERE datname = current_database()`,
      )
    ).rows[0]!;
    const t = await c.query<Record<string, string>>(
      `SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan, n_tup_ins, n_tup_upd, n_tup_hot_upd
         FROM pg_stat_user_tables`,
    );
    return {
      commits: Number(d.xact_commit),
      rollbacks: Number(d.xact_rollback),
      tupReturned: Number(d.tup_returned),
      tupFetched: Number(d.tup_fetched),
      tupInserted: Number(d.tup_inserted),
      tupUpdated: Number(d.tup_updated),
      tables: new Map(
        t.rows.map((r) => [
          r.relname!,
          {
            seqScan: Number(r.seq_scan),
            seqTupRead: Number(r.seq_tup_read),
            idxScan: Number(r.idx_scan),
            inserted: Number(r.n_tup_ins),
            updated: Number(r.n_tup_upd),
            hotUpdated: Number(r.n_tup_hot_upd),
          },
        ]),
      ),
    };
  } finally {
    await c.end();
  }
}

export interface DbDelta {
  readonly commits: number;
  readonly rollbacks: number;
  readonly tupInserted: number;
  readonly tupUpdated: number;
  readonly tables: readonly ({ readonly name: string } & TableCounters)[];
}

export function dbDelta(a: DbCounters, b: DbCounters): DbDelta {
  const tables: ({ name: string } & TableCounters)[] = [];
  for (const [name, x] of b.tables) {
    const y = a.tables.get(name);
    tables.push({
      name,
      seqScan: x.seqScan - (y?.seqScan ?? 0),
      seqTupRead: x.seqTupRead - (y?.seqTupRead ?? 0),
      idxScan: x.idxScan - (y?.idxScan ?? 0),
      inserted: x.inserted - (y?.inserted ?? 0),
      updated: x.updated - (y?.updated ?? 0),
      hotUpdated: x.hotUpdated - (y?.hotUpdated ?? 0),
    });
  }
  tables.sort((p, q) => q.seqTupRead + q.idxScan - (p.seqTupRead + p.idxScan));
  return {
    commits: b.commits - a.commits,
    rollbacks: b.rollbacks - a.rollbacks,
    tupInserted: b.tupInserted - a.tupInserted,
    tupUpdated: b.tupUpdated - a.tupUpdated,
    tables,
  };
}
