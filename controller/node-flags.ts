// Node flags of every process that holds VIPs: the controller (its image, `npm start`, every spawn of it
// through controller-bundle's CONTROLLER_NODE_ARGS) and the benchmarks' VIP processes, so that what is
// measured is what runs.
//
// --max-semi-space-size=2 (MiB; V8's default on 64-bit is 16): a VIP process is a proxy whose garbage is
// almost all short-lived, so a small young generation costs a few more, cheap scavenges, while the default one
// is committed memory that nothing lives in. With 1000 VIPs and one client connection each the process held
// 219 MB of RSS with V8's default and 198 MB with 2 MiB (1 MiB: 198, 4: 204, 8: 210); in the side-by-side
// benchmark at N=1000 the VIP process after the fill went from 211 to 184 MB, and sequential GETs through a
// VIP cost the same VIP CPU within the runs' noise (BENCHMARKS.md).
export const CONTROLLER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2"];
