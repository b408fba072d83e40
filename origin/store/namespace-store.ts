import { DurableObject } from "cloudflare:workers";
import type { OriginEnv } from "../env";

export class NamespaceStore extends DurableObject<OriginEnv> {
  ping(): string {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (a INTEGER)");
    return "pong";
  }
}
