/**
 * Which targets a notification goes to: those named by every enabled matcher that matches it.
 * A matcher without match-severity matches warnings and errors only, so that successful runs
 * stay quiet unless a matcher asks for `info` (PBS would match everything).
 */
import type { Notification, Severity } from "./notification.js";
import { findTarget, type Matcher, type NotificationsConfig } from "./notification-config.js";

export const DEFAULT_MATCH_SEVERITY: readonly Severity[] = ["warning", "error"];

/** One `match-field` rule against the notification's fields; a missing field never matches. */
export function fieldMatches(rule: string, fields: Record<string, string>): boolean {
  const parsed = /^(exact|regex):([a-z][a-z0-9-]*)=(.*)$/.exec(rule);
  if (parsed === null) return false;
  const value = fields[parsed[2]!];
  if (value === undefined) return false;
  if (parsed[1] === "exact") return parsed[3]!.split(",").includes(value);
  return new RegExp(parsed[3]!).test(value);
}

export function matcherMatches(matcher: Matcher, notification: Notification): boolean {
  const severities = matcher["match-severity"] ?? DEFAULT_MATCH_SEVERITY;
  const results = [
    severities.includes(notification.severity),
    ...(matcher["match-field"] ?? []).map((rule) => fieldMatches(rule, notification.fields)),
  ];
  const matched =
    (matcher.mode ?? "all") === "all" ? results.every(Boolean) : results.some(Boolean);
  return matcher["invert-match"] === true ? !matched : matched;
}

/** The names of the enabled targets the notification goes to, each once. */
export function targetsFor(config: NotificationsConfig, notification: Notification): string[] {
  const names = new Set<string>();
  for (const matcher of Object.values(config.matcher)) {
    if (matcher.disable === true || !matcherMatches(matcher, notification)) continue;
    for (const name of matcher.target) names.add(name);
  }
  return [...names].filter((name) => {
    const found = findTarget(config, name);
    return found !== undefined && found.target.disable !== true;
  });
}
