/** The bottom navigation's entries; orders, stock and the dashboard add theirs here. */
import type { IconName } from "./components/Icon";
import type { MessageKey } from "./i18n";
import { paths } from "./routes";

export interface NavItem {
  path: string;
  label: MessageKey;
  icon: IconName;
  /** Other path prefixes that belong to this entry (a location page belongs to Home). */
  owns?: readonly string[];
  /** Roles that see the entry; every staff role when absent. */
  roles?: readonly string[];
  /** Shown as an icon in the top bar rather than in the bottom bar (which fits five entries). */
  inHeader?: boolean;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { path: paths.home, label: "nav.home", icon: "home", owns: ["/locations"] },
  { path: paths.dashboard, label: "nav.dashboard", icon: "chart", roles: ["manager", "admin"] },
  { path: paths.store, label: "nav.store", icon: "pin" },
  // Invoices open from the orders screen (the bottom bar fits five entries): they belong to it.
  { path: paths.orders, label: "nav.orders", icon: "receipt", owns: [paths.invoices, "/credit-notes"] },
  { path: paths.stock, label: "nav.stock", icon: "box", owns: [paths.outbox] },
  // Orders held as suspected fraud: a manager's decision, in reach from every screen.
  { path: paths.reviews, label: "nav.reviews", icon: "shield", roles: ["manager", "admin"], inHeader: true },
  // The day's reconciliation: managers check it once a day, from the top bar.
  { path: paths.reconciliation, label: "nav.reconciliation", icon: "balance", roles: ["manager", "admin"], inHeader: true },
  { path: paths.account, label: "nav.account", icon: "person", inHeader: true },
];

function under(pathname: string, prefix: string): boolean {
  if (prefix === "/") return pathname === "/";
  return pathname === prefix || pathname.startsWith(prefix + "/");
}

/** The entries `role` sees, in the bottom bar (default) or in the top bar. */
export function navItemsFor(role: string | undefined, inHeader = false, items: readonly NavItem[] = NAV_ITEMS): NavItem[] {
  return items.filter((item) => !!item.inHeader === inHeader && (!item.roles || (role !== undefined && item.roles.includes(role))));
}

/** The entry a path belongs to (`/orders/X` lights "Orders"), or null for none. */
export function activeNavPath(pathname: string, items: readonly NavItem[] = NAV_ITEMS): string | null {
  const owner = items.find(
    (item) => under(pathname, item.path) || (item.owns ?? []).some((p) => under(pathname, p)),
  );
  return owner?.path ?? null;
}
