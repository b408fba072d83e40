/** Admin tokens for tests (DESIGN §5): HS256 with the run's ADMIN_JWT_SECRET, through core's minting. */
import { mintAdminToken } from "../../core";

export function mintTestAdminToken(
  secret: string,
  scope = "admin",
  options: { ttlSeconds?: number; sub?: string; nowSeconds?: number } = {},
): Promise<string> {
  return mintAdminToken(secret, {
    scope,
    ttlSeconds: options.ttlSeconds ?? 600,
    sub: options.sub ?? "tester",
    ...(options.nowSeconds === undefined ? {} : { nowSeconds: options.nowSeconds }),
  });
}
