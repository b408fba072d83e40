/** fleetconf core: pure logic shared by the edge, the origin, the SDK and the CLI. No bindings, no I/O. */
export * from "./cache-control";
export * from "./conditional";
export * from "./encoding";
export * from "./errors";
export * from "./fleet";
export * from "./freshness";
export * from "./http";
export * from "./json";
export * from "./jws";
export * from "./keys";
export * from "./rollout";
export * from "./scopes";
export * from "./snapshot";
export * from "./streams";
export * from "./tokens";
export * from "./trust-root";
