// The fleet dashboard (see routes.ts), wired to a running controller.
import type { Registry } from "prom-client";
import type { RunningController } from "../manager.js";
import type { ExtraRoutes } from "../metrics.js";
import { serveDashboard } from "./routes.js";
import { FleetView } from "./snapshot.js";

export { FleetView } from "./snapshot.js";

export function dashboardRoutes(controller: RunningController, registry: Registry): ExtraRoutes {
  const view = new FleetView(controller.manager.sharedInformers, registry, controller.edge);
  return (req, res) => serveDashboard(req, res, view);
}
