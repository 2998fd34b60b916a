import { SystemError } from "../errors.js";

export interface SmartAttribute {
  id: number;
  name: string;
  value: number;
  worst: number;
  threshold: number;
  raw: string;
  flags: string;
}

export interface SmartReport {
  /** passed/failed from the device's own assessment; unknown when it gave none. */
  status: "passed" | "failed" | "unknown";
  /** Percent of rated endurance used (NVMe percentage_used, or ATA wear-levelling). */
  wearout?: number;
  attributes: SmartAttribute[];
  /** smartctl's own messages, e.g. why a device could not be read. */
  messages: string[];
}

/** The parts of smartctl's JSON read here; every field may be missing. */
interface SmartctlJson {
  smartctl?: { messages?: { string?: string }[] };
  smart_status?: { passed?: boolean };
  ata_smart_attributes?: {
    table?: {
      id?: number;
      name?: string;
      value?: number;
      worst?: number;
      thresh?: number;
      flags?: { string?: string };
      raw?: { value?: number; string?: string };
    }[];
  };
  nvme_smart_health_information_log?: { percentage_used?: number };
}

/** `smartctl --json -H -A` output, ATA or NVMe; an unreadable device is status unknown. */
export function parseSmartctl(json: string): SmartReport {
  let raw: SmartctlJson;
  try {
    raw = JSON.parse(json) as SmartctlJson;
  } catch (err) {
    throw new SystemError("parse-failed", "smartctl printed no valid JSON", {}, { cause: err });
  }
  const passed = raw.smart_status?.passed;
  const report: SmartReport = {
    status: passed === true ? "passed" : passed === false ? "failed" : "unknown",
    attributes: [],
    messages: (raw.smartctl?.messages ?? []).map((m) => String(m.string ?? "")),
  };
  for (const entry of raw.ata_smart_attributes?.table ?? []) {
    report.attributes.push({
      id: Number(entry.id),
      name: String(entry.name ?? ""),
      value: Number(entry.value),
      worst: Number(entry.worst),
      threshold: Number(entry.thresh),
      raw: String(entry.raw?.string ?? entry.raw?.value ?? ""),
      flags: String(entry.flags?.string ?? "").trim(),
    });
  }
  const nvmeUsed = raw.nvme_smart_health_information_log?.percentage_used;
  if (typeof nvmeUsed === "number") report.wearout = nvmeUsed;
  else {
    // Wear_Leveling_Count (177) / Media_Wearout_Indicator (233) count down from 100.
    const wear = report.attributes.find((a) => a.id === 177 || a.id === 233);
    if (wear) report.wearout = Math.max(0, 100 - wear.value);
  }
  return report;
}
