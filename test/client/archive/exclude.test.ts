import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { ArchiveError } from "../../../appliance/client/archive/errors.js";
import {
  matchPath,
  parseExcludeFile,
  parsePattern,
  patternLines,
} from "../../../appliance/client/archive/exclude.js";
import { encodeTree } from "../../../appliance/client/archive/walker.js";
import { CatalogReader } from "../../../appliance/format/catalog-reader.js";
import { archiveListing, archiveTree, decoderOf, tempDir } from "./fixtures.js";

const FILE = 0o100644;
const DIR = 0o040755;

function verdict(lines: string[], path: string, mode = FILE) {
  return matchPath(
    lines.map((line) => parsePattern(line)),
    Buffer.from(path),
    mode,
  );
}

test("an unanchored pattern matches any trailing run of whole components", (t) => {
  t.is(verdict(["*.tmp"], "/a.tmp"), "exclude");
  t.is(verdict(["*.tmp"], "/deep/down/a.tmp"), "exclude");
  t.is(verdict(["*.tmp"], "/a.tmpx"), undefined);
  t.is(verdict(["*.tmp"], "/x.tmp/inside"), undefined, "* stays within one component");
  t.is(verdict(["a/b"], "/a/b"), "exclude");
  t.is(verdict(["a/b"], "/x/a/b"), "exclude");
  t.is(verdict(["a/b"], "/xa/b"), undefined);
});

test("a leading slash anchors at the root, a trailing slash means directories only", (t) => {
  t.is(verdict(["/build"], "/build"), "exclude");
  t.is(verdict(["/build"], "/src/build"), undefined);
  t.is(verdict(["cache/"], "/x/cache", DIR), "exclude");
  t.is(verdict(["cache/"], "/x/cache", FILE), undefined);
  t.is(verdict(["/a/*/c"], "/a/b/c"), "exclude");
  t.is(verdict(["/a/*/c"], "/a/b/b/c"), undefined);
});

test("** crosses directories, classes and escapes work byte-wise", (t) => {
  t.is(verdict(["**/*.log"], "/a.log"), "exclude");
  t.is(verdict(["/var/**/*.log"], "/var/a.log"), "exclude");
  t.is(verdict(["/var/**/*.log"], "/var/x/y/a.log"), "exclude");
  t.is(verdict(["/var/**"], "/var/x/y"), "exclude");
  t.is(verdict(["/var/**"], "/other/x"), undefined);
  t.is(verdict(["[a-c]?.txt"], "/bx.txt"), "exclude");
  t.is(verdict(["[a-c]?.txt"], "/dx.txt"), undefined);
  t.is(verdict(["[!a]*"], "/abc"), undefined);
  t.is(verdict(["[!a]*"], "/bcd"), "exclude");
  t.is(verdict(["\\*literal"], "/*literal"), "exclude");
  t.is(verdict(["\\*literal"], "/xliteral"), undefined);
  t.is(verdict(["Grüße*"], "/Grüße.txt"), "exclude");
  t.is(verdict(["x?y"], "/x/y"), undefined, "? never matches '/'");
});

test("the last matching pattern decides; ! re-includes", (t) => {
  const lines = ["*.tmp", "!keep.tmp"];
  t.is(verdict(lines, "/keep.tmp"), "include");
  t.is(verdict(lines, "/x.tmp"), "exclude");
  t.is(verdict(["!keep.tmp", "*.tmp"], "/keep.tmp"), "exclude");
  t.is(
    patternLines(["*.tmp", "!keep.tmp", "cache/"].map((l) => parsePattern(l))),
    "*.tmp\n!keep.tmp\ncache/\n",
  );
});

test(".pxarexclude lines: comments, blanks, trimming, anchors rooted at the file's directory", (t) => {
  const content = Buffer.from("# a comment\n\n  *.tmp  \n/only-here\n!/only-here/but-this\n");
  const { patterns, bad } = parseExcludeFile(content, Buffer.from("sub/dir"));
  t.deepEqual(bad, []);
  t.deepEqual(
    patterns.map((p) => [p.type, p.text, p.anchored]),
    [
      ["exclude", "*.tmp", false],
      ["exclude", "/sub/dir/only-here", true],
      ["include", "/sub/dir/only-here/but-this", true],
    ],
  );
  t.is(parseExcludeFile(Buffer.from("ok\nbad\\"), Buffer.alloc(0)).bad[0]?.line, "bad\\");
});

async function excludeTree(src: string): Promise<void> {
  const files: Record<string, string> = {
    ".pxarexclude": "*.tmp\n!keep.tmp\n/top-only\ncache/\n# a comment\nbad\\\n",
    "a.tmp": "x",
    "keep.tmp": "x",
    "top-only": "x",
    "file.txt": "x",
    "cache/junk": "x",
    "cache/.pxarexclude": "!junk\n",
    "sub/cache": "a file, so kept",
    "sub/top-only": "anchored at the root, so kept",
    "sub/b.tmp": "re-included below",
    "sub/c.tmp": "x",
    "sub/.pxarexclude": "/local\n!b.tmp\n",
    "sub/local": "x",
    "sub/deeper/local": "anchored at sub, so kept",
    "logs/x.log": "x",
    "logs/y.txt": "x",
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(src, path, ".."), { recursive: true });
    await writeFile(join(src, path), content);
  }
}

const EXPECTED = [
  "/ directory",
  "/.pxarexclude file 50",
  "/file.txt file 1",
  "/keep.tmp file 1",
  "/logs directory",
  "/logs/y.txt file 1",
  "/sub directory",
  "/sub/.pxarexclude file 14",
  "/sub/b.tmp file 17",
  "/sub/cache file 15",
  "/sub/deeper directory",
  "/sub/deeper/local file 24",
  "/sub/top-only file 29",
];

test("the walker honours --exclude and .pxarexclude files; v1 keeps the patterns in .pxarexclude-cli", async (t) => {
  const src = await tempDir(t);
  await excludeTree(src);
  const archived = await archiveTree(src, { exclude: ["*.log"], withCatalog: true });
  const { lines, contents } = await archiveListing(archived);
  t.deepEqual(lines, [...EXPECTED, "/.pxarexclude-cli file 6"]);
  t.is(contents.get("/.pxarexclude-cli")?.toString(), "*.log\n");
  t.is(archived.counters.excluded, 6);
  t.deepEqual(
    archived.warnings.map((w) => `${w.kind} ${w.path}`),
    ["bad-pattern /.pxarexclude"],
  );
  const catalog = await CatalogReader.fromBuffer(archived.catalog!);
  const root = await catalog.list("/root.pxar.didx");
  t.is(root.at(-1)?.name.toString(), ".pxarexclude-cli");
});

test("a split archive keeps the --exclude patterns in its prelude instead", async (t) => {
  const src = await tempDir(t);
  await excludeTree(src);
  const archived = await archiveTree(src, {
    exclude: ["*.log", "!keep.log", "cache/"],
    split: true,
  });
  const decoder = decoderOf(archived);
  const lines: string[] = [];
  for await (const item of decoder) if (item.kind !== "directory-end") lines.push(item.path);
  t.deepEqual(
    lines,
    EXPECTED.map((line) => line.split(" ")[0]),
  );
  t.deepEqual(JSON.parse(decoder.prelude!.toString()), {
    "exclude-patterns": "*.log\n!keep.log\ncache/\n",
  });
});

test("a bad --exclude pattern is refused before anything is written", async (t) => {
  const src = await tempDir(t);
  let written = 0;
  const error = await t.throwsAsync(
    encodeTree(
      src,
      (piece) => {
        written += piece.length;
      },
      { exclude: ["ok", "bad\\"] },
    ),
    { instanceOf: ArchiveError },
  );
  t.is(error?.kind, "bad-pattern");
  t.is(written, 0);
});
