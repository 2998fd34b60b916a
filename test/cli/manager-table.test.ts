import test from "ava";
import { renderFields, renderTable } from "../../appliance/cli/table.js";

interface Row {
  name: string;
  size: number;
}

const columns = [
  { header: "name", cell: (row: Row) => row.name },
  { header: "size", cell: (row: Row) => String(row.size), align: "right" as const },
];

test("a table lines up every column under its header, numbers on the right", (t) => {
  const text = renderTable(columns, [
    { name: "a", size: 1234 },
    { name: "much-longer", size: 5 },
  ]);
  t.is(
    text,
    ["name         size", "-----------  ----", "a            1234", "much-longer     5", ""].join(
      "\n",
    ),
  );
});

test("a column is as wide as its widest cell, counting code points, with no trailing spaces", (t) => {
  const text = renderTable(
    [
      { header: "k", cell: (row: { k: string; v: string }) => row.k },
      { header: "v", cell: (row: { k: string; v: string }) => row.v },
    ],
    [
      { k: "größe", v: "" },
      { k: "x", v: "yes" },
    ],
  );
  t.deepEqual(text.split("\n"), ["k      v", "-----  ---", "größe", "x      yes", ""]);
});

test("control characters in cells cannot reach the terminal", (t) => {
  const text = renderTable(columns, [{ name: "evil\u001b[2J\nname", size: 1 }]);
  t.false(text.includes("\u001b"));
  t.is(text.split("\n").length, 4);
  t.true(text.includes("evil\uFFFD[2J\uFFFDname"));
});

test("without rows only the header and its rule are printed", (t) => {
  t.is(renderTable(columns, []), "name  size\n----  ----\n");
});

test("fields line up their values after the labels", (t) => {
  t.is(
    renderFields([
      ["subject", "CN=x"],
      ["fingerprint", "aa:bb"],
    ]),
    "subject:      CN=x\nfingerprint:  aa:bb\n",
  );
});
