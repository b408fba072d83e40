export const LOCAL_KV_ID: "fleetconf-configs-local";
export function configsKvId(tomlText: string): string | undefined;
export function kvIdProblems(configs: Record<string, string>): string[];
export function wranglerConfigDir(env?: NodeJS.ProcessEnv, home?: string): string;
export function credentialSource(env?: NodeJS.ProcessEnv, home?: string): string | undefined;
export function withoutServiceBinding(tomlText: string, service: string): string;
export function boundServices(tomlText: string): string[];
