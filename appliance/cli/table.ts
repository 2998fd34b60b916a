/** One column of a text table: its header and how a row shows in it. */
export interface Column<T> {
  header: string;
  cell(row: T): string;
  /** Numbers read best right-aligned. */
  align?: "left" | "right";
}

const GAP = "  ";

/** Control characters would move the cursor or recolour the terminal; they show as U+FFFD. */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "\uFFFD");
}

/** Width in terminal columns, counting each code point as one. */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, size: number, align: "left" | "right"): string {
  const fill = " ".repeat(size - width(text));
  return align === "right" ? fill + text : text + fill;
}

function renderRows(rows: readonly string[][], aligns: readonly ("left" | "right")[]): string {
  const widths = aligns.map((_, i) => Math.max(...rows.map((row) => width(row[i]!))));
  return rows
    .map((row) =>
      row
        .map((cell, i) => pad(cell, widths[i]!, aligns[i]!))
        .join(GAP)
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

/**
 * Rows under a header and a dashed rule, each column as wide as its widest cell, two spaces
 * apart; no trailing spaces. With no rows, only the header and the rule.
 */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const header = columns.map((column) => printable(column.header));
  const cells = rows.map((row) => columns.map((column) => printable(column.cell(row))));
  const widths = columns.map((_, i) =>
    Math.max(width(header[i]!), ...cells.map((r) => width(r[i]!))),
  );
  const rule = widths.map((size) => "-".repeat(size));
  return renderRows(
    [header, rule, ...cells],
    columns.map((column) => column.align ?? "left"),
  );
}

/** `label: value` lines with the values lined up, for one record. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  return renderRows(
    fields.map(([label, value]) => [`${printable(label)}:`, printable(value)]),
    ["left", "left"],
  );
}
