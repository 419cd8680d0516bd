// Processes of a process group, by name, from /proc (Linux): how tests find the workerd that a spawned
// edge or `npm start` runs, to kill it as a crash would.
import { readdirSync, readFileSync } from "node:fs";

/** Pids of processes named `comm` (as /proc/<pid>/stat shows it) in process group `pgid`. */
export function pidsInGroup(pgid: number, comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // pid (comm) state ppid pgrp ...; comm may contain spaces or parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(")");
    const name = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    if (name === comm && Number(fields[2]) === pgid && fields[0] !== "Z") out.push(Number(entry));
  }
  return out;
}
