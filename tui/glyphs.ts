import { createContext, useContext } from "react";

/** The few non-ASCII characters the screens use, with ASCII stand-ins for plain consoles. */
export interface Glyphs {
  rule: string;
  pointer: string;
  checked: string;
  unchecked: string;
  locked: string;
  ok: string;
  failed: string;
  pending: string;
  spinner: readonly string[];
  arrows: string;
  cursor: string;
}

export const UNICODE_GLYPHS: Glyphs = {
  rule: "─",
  pointer: "›",
  checked: "[x]",
  unchecked: "[ ]",
  locked: " - ",
  ok: "✓",
  failed: "✗",
  pending: "·",
  spinner: ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"],
  arrows: "↑↓",
  cursor: "█",
};

export const ASCII_GLYPHS: Glyphs = {
  rule: "-",
  pointer: ">",
  checked: "[x]",
  unchecked: "[ ]",
  locked: " - ",
  ok: "ok",
  failed: "!!",
  pending: ".",
  spinner: ["|", "/", "-", "\\"],
  arrows: "Up/Down",
  cursor: "_",
};

/** Unicode only when the locale says UTF-8; the Linux console font lacks much beyond that. */
export function glyphsFor(env: NodeJS.ProcessEnv): Glyphs {
  if (env.CAIRN_ASCII === "1") return ASCII_GLYPHS;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale) ? UNICODE_GLYPHS : ASCII_GLYPHS;
}

export const GlyphContext = createContext<Glyphs>(ASCII_GLYPHS);

export function useGlyphs(): Glyphs {
  return useContext(GlyphContext);
}
