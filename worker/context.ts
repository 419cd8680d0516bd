// Hono typing shared by the worker's route modules.
import type { Principal } from "./auth.js";

export interface HonoEnv {
  Bindings: Env;
  Variables: { principal: Principal };
}
