/**
 * The demo `npm run dev` seeds through the origin's admin API (DESIGN §4): namespace `demo` made
 * public and `demo/web/settings` published once (create-only, so a restart keeps local edits).
 * Failures become warnings: the stack is still useful without the demo.
 */

export const DEMO_KEY = "demo/web/settings";
export const DEMO_CONFIG = {
  greeting: "hello from fleetconf",
  theme: "light",
  features: { search: true, beta: false },
  refreshSeconds: 30,
};

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return cause ?? error.message;
  }
  return String(error);
}

async function call(url: string, init: RequestInit): Promise<Answer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    return {
      status: 0,
      headers: new Headers(),
      text: errorText(error),
    };
  }
}

function explain(what: string, answer: Answer): string {
  if (answer.status === 0) return `${what} failed: ${answer.text}`;
  let detail = answer.text.slice(0, 200);
  try {
    const problem: unknown = JSON.parse(answer.text);
    if (
      typeof problem === "object" &&
      problem !== null &&
      "detail" in problem &&
      typeof problem.detail === "string"
    ) {
      detail = problem.detail;
    }
  } catch {
    // Not problem+json: keep the raw text.
  }
  const hint = answer.status === 404 ? " (is this origin route built yet?)" : "";
  return `${what} answered ${answer.status}${hint}: ${detail}`;
}

/** Seeds the demo; resolves with the edge's ETag for it (when served) and any warnings. */
export async function seedDemo({
  originUrl,
  edgeUrl,
  token,
  log = (m) => console.log(`[dev] ${m}`),
}: {
  originUrl: string;
  edgeUrl: string;
  token: string;
  log?: (message: string) => void;
}): Promise<{ etag?: string; warnings: string[] }> {
  const warnings: string[] = [];
  const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };

  const namespace = await call(`${originUrl}/v1/namespaces/demo`, {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ visibility: "public" }),
  });
  if (namespace.status >= 200 && namespace.status < 300) log("namespace demo is public");
  else warnings.push(explain("PUT /v1/namespaces/demo", namespace));

  const published = await call(`${originUrl}/v1/configs/${DEMO_KEY}`, {
    method: "PUT",
    headers: { ...auth, "If-None-Match": "*", "Config-Message": "demo seeded by npm run dev" },
    body: `${JSON.stringify(DEMO_CONFIG, null, 2)}\n`,
  });
  if (published.status === 201) log(`published ${DEMO_KEY}`);
  else if (published.status === 412) log(`${DEMO_KEY} already exists; left as it is`);
  else warnings.push(explain(`PUT /v1/configs/${DEMO_KEY}`, published));

  let etag: string | undefined;
  if (warnings.length === 0) {
    const served = await call(`${edgeUrl}/v1/configs/${DEMO_KEY}`, {});
    if (served.status === 200) etag = served.headers.get("ETag") ?? undefined;
    else warnings.push(explain(`GET ${edgeUrl}/v1/configs/${DEMO_KEY}`, served));
  }
  return { etag, warnings };
}
