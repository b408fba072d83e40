/**
 * The console's page shell and small shared pieces. Everything is rendered by hono/jsx, which
 * escapes every string it is given: config content, messages, key names and authors are always
 * text, never markup (nothing here uses `raw` or `dangerouslySetInnerHTML`).
 */
import type { Child, FC } from "hono/jsx";
import type { ApiProblem } from "./api";

export interface PageContext {
  /** The CSP nonce of this response (secureHeaders), for the one optional script. */
  nonce: string;
  stylesheet: string;
  /** Null on the sign-in page. */
  user: { sub: string; csrf: string } | null;
  current: "namespaces" | "status" | "audit" | "other";
}

export const Layout: FC<{ page: PageContext; title: string; children?: Child }> = ({
  page,
  title,
  children,
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${title} · fleetconf console`}</title>
      <link rel="stylesheet" href={`/console/assets/${page.stylesheet}`} />
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a href="/console">fleetconf console</a>
        {page.user && (
          <nav aria-label="Console">
            <ul>
              <li>
                <a href="/console" aria-current={page.current === "namespaces" ? "page" : undefined}>
                  Namespaces
                </a>
              </li>
              <li>
                <a href="/console/status" aria-current={page.current === "status" ? "page" : undefined}>
                  Status
                </a>
              </li>
              <li>
                <a href="/console/audit" aria-current={page.current === "audit" ? "page" : undefined}>
                  Audit
                </a>
              </li>
            </ul>
          </nav>
        )}
        {page.user && (
          <div class="who">
            <span>
              Signed in as <strong data-testid="signed-in-as">{page.user.sub}</strong>
            </span>
            <form class="inline" method="post" action="/console/sign-out">
              <input type="hidden" name="csrf" value={page.user.csrf} />
              <button type="submit">Sign out</button>
            </form>
          </div>
        )}
      </header>
      <main id="main">{children}</main>
    </body>
  </html>
);

export const ProblemBox: FC<{ problem: ApiProblem }> = ({ problem }) => (
  <div class="error" role="alert">
    <strong>
      {problem.status} {problem.title}
    </strong>
    {problem.detail && <p>{problem.detail}</p>}
  </div>
);

/** A config key's console URL; keys only hold `[a-z0-9._/-]`, so no escaping is needed in the path. */
export function keyHref(key: string, sub = ""): string {
  return `/console/keys/${key}${sub ? `/-/${sub}` : ""}`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** Pretty-prints JSON text for reading; shows the exact text when it does not parse. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export const CsrfField: FC<{ page: PageContext }> = ({ page }) => (
  <input type="hidden" name="csrf" value={page.user?.csrf ?? ""} />
);
