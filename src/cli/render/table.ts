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
  const widths = cols.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join("   ")
      .trimEnd();
  return [line(cols.map((c) => c.header)), ...cells.map(line)].join("\n");
}
