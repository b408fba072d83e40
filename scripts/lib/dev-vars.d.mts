import type { FleetconfSecrets } from "./secrets.mjs";
export function ensureDevVars(
  root: string,
  log?: (message: string) => void,
): FleetconfSecrets & Record<string, string>;
