/**
 * kubectl-style tables: upper-case headers, columns padded to their widest cell and separated by
 * three spaces, no borders.
 */

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Shown only with `-o wide`. */
  wide?: boolean;
}

export function renderTable<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  opts: { wide: boolean },
): string {
  const cols = columns.filter((c) => opts.wide || !c.wide);
  const cells = rows.map((r) => cols.map((c) => c.value(r)));
  // A loop, not Math.max(...cells): spreading 150,000 rows into one call overflows the call stack.
  const widths = cols.map((c, i) => cells.reduce((w, row) => Math.max(w, row[i].length), c.header.length));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join("   ")
      .trimEnd();
  const out = [line(cols.map((c) => c.header))];
  for (const row of cells) out.push(line(row));
  return out.join("\n");
}
