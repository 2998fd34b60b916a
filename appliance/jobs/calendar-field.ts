/**
 * One component of a calendar event (year, month, day, hour, minute or second) as the values it
 * allows: a union of stepped ranges. Pure.
 */

/** `start..end/step`; a single value is a range of one, `*` is the whole span with step 1. */
export interface ValueRange {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

/** An empty list allows every value. */
export type CalendarField = readonly ValueRange[];

/** The smallest allowed value ≥ `value`, or undefined when none is left up to the ranges' ends. */
export function nextAllowed(field: CalendarField, value: number): number | undefined {
  if (field.length === 0) return value;
  let best: number | undefined;
  for (const { start, end, step } of field) {
    let candidate = start;
    if (value > start) candidate = start + Math.ceil((value - start) / step) * step;
    if (candidate > end) continue;
    if (best === undefined || candidate < best) best = candidate;
  }
  return best;
}

export function allows(field: CalendarField, value: number): boolean {
  return nextAllowed(field, value) === value;
}

/** `1..7`, `0/15`, `*`: the form the parser reads, for messages and `toString`. */
export function formatField(field: CalendarField, width = 2): string {
  if (field.length === 0) return "*";
  const pad = (value: number) => String(value).padStart(width, "0");
  return field
    .map(({ start, end, step }) => {
      if (start === end) return pad(start);
      if (step === 1) return `${pad(start)}..${pad(end)}`;
      return `${pad(start)}..${pad(end)}/${step}`;
    })
    .join(",");
}
