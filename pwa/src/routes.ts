/** The app's routes: a path to a screen and its parameters. Later screens add theirs here. */

export type Route =
  | { screen: "home" }
  | { screen: "location"; code: string }
  | { screen: "account" }
  | { screen: "stock" }
  | { screen: "sku"; sku: string }
  | { screen: "outbox" }
  | { screen: "orders" }
  | { screen: "order"; number: string }
  | { screen: "dashboard" }
  | { screen: "store" }
  | { screen: "fulfillment"; id: string }
  | { screen: "invoices" }
  | { screen: "invoice"; number: string }
  | { screen: "credit-note"; number: string }
  | { screen: "reconciliation" }
  | { screen: "reviews" }
  | { screen: "not-found" };

const PATTERNS: ReadonlyArray<[RegExp, (m: RegExpMatchArray) => Route]> = [
  [/^\/$/, () => ({ screen: "home" })],
  [/^\/locations\/([^/]+)\/?$/, (m) => ({ screen: "location", code: decodeURIComponent(m[1]!) })],
  [/^\/account\/?$/, () => ({ screen: "account" })],
  [/^\/stock\/?$/, () => ({ screen: "stock" })],
  [/^\/stock\/([^/]+)\/?$/, (m) => ({ screen: "sku", sku: decodeURIComponent(m[1]!) })],
  [/^\/outbox\/?$/, () => ({ screen: "outbox" })],
  [/^\/orders\/?$/, () => ({ screen: "orders" })],
  [/^\/orders\/([^/]+)\/?$/, (m) => ({ screen: "order", number: decodeURIComponent(m[1]!) })],
  [/^\/dashboard\/?$/, () => ({ screen: "dashboard" })],
  [/^\/store\/?$/, () => ({ screen: "store" })],
  [/^\/store\/work\/([^/]+)\/?$/, (m) => ({ screen: "fulfillment", id: decodeURIComponent(m[1]!) })],
  [/^\/invoices\/?$/, () => ({ screen: "invoices" })],
  [/^\/invoices\/([^/]+)\/?$/, (m) => ({ screen: "invoice", number: decodeURIComponent(m[1]!) })],
  [/^\/reports\/reconciliation\/?$/, () => ({ screen: "reconciliation" })],
  [/^\/credit-notes\/([^/]+)\/?$/, (m) => ({ screen: "credit-note", number: decodeURIComponent(m[1]!) })],
  [/^\/reviews\/?$/, () => ({ screen: "reviews" })],
];

export function matchRoute(pathname: string): Route {
  for (const [pattern, build] of PATTERNS) {
    const m = pathname.match(pattern);
    if (m) return build(m);
  }
  return { screen: "not-found" };
}

export const paths = {
  home: "/",
  account: "/account",
  location: (code: string) => `/locations/${encodeURIComponent(code)}`,
  stock: "/stock",
  sku: (sku: string) => `/stock/${encodeURIComponent(sku)}`,
  outbox: "/outbox",
  orders: "/orders",
  order: (number: string) => `/orders/${encodeURIComponent(number)}`,
  dashboard: "/dashboard",
  store: "/store",
  fulfillment: (id: string) => `/store/work/${encodeURIComponent(id)}`,
  invoices: "/invoices",
  invoice: (number: string) => `/invoices/${encodeURIComponent(number)}`,
  creditNote: (number: string) => `/credit-notes/${encodeURIComponent(number)}`,
  reconciliation: "/reports/reconciliation",
  reviews: "/reviews",
};
