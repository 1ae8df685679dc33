/**
 * A D1 that adds up what its statements read (`meta.rows_read`, what D1 bills: table and index entries
 * visited), for tests of what a query costs. `first` and `raw` discard D1's meta, so they run as `all` here.
 */
export function rowsReadD1(d1: D1Database) {
  let rowsRead = 0;
  const unwrapped = new WeakMap<object, D1PreparedStatement>();
  const counted = async (statement: D1PreparedStatement) => {
    const result = await statement.all<Record<string, unknown>>();
    rowsRead += result.meta.rows_read;
    return result;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (property === "all" || property === "run") return () => counted(target);
        if (property === "first") {
          return async (column?: string) => {
            const row = (await counted(target)).results[0];
            if (row === undefined) return null;
            return column === undefined ? row : (row[column] ?? null);
          };
        }
        if (property === "raw") {
          return async (options?: { columnNames?: boolean }) => {
            await counted(target);
            return options?.columnNames ? target.raw({ columnNames: true }) : target.raw();
          };
        }
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    unwrapped.set(proxy, statement);
    return proxy;
  };
  const db = new Proxy(d1, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => wrap(target.prepare(sql));
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements.map((s) => unwrapped.get(s) ?? s));
          for (const result of results) rowsRead += result.meta.rows_read;
          return results;
        };
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    db,
    /** Rows read since the last reset. */
    rowsRead: () => rowsRead,
    reset: () => {
      rowsRead = 0;
    },
  };
}
