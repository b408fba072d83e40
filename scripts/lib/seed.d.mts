export const DEMO_KEY: "demo/web/settings";
export const DEMO_CONFIG: Record<string, unknown>;
export function seedDemo(options: {
  originUrl: string;
  edgeUrl: string;
  token: string;
  log?: (message: string) => void;
}): Promise<{ etag?: string; warnings: string[] }>;
