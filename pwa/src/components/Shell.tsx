/** The signed-in frame: header with who is signed in, banners, the screen, bottom navigation. */
import { useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";

import { describeError } from "../api/problem";
import { locale, t } from "../i18n";
import { roleLabel } from "../i18n/labels";
import { activeNavPath, navItemsFor, type NavItem } from "../navigation";
import { paths } from "../routes";
import { reviewBadge, useReviewQueue } from "../state/reviews";
import { currentPath } from "../state/router";
import { me, signOut } from "../state/session";
import { Banners } from "./Banners";
import { Icon } from "./Icon";
import { Link } from "./Link";

/** A top-bar entry; the review queue's carries how many orders wait for a decision. */
function HeaderLink({ item, active }: { item: NavItem; active: boolean }) {
  const count = item.path === paths.reviews ? reviewBadge.value : "";
  const label = count ? t("nav.reviewsCount", { count }) : t(item.label);
  return (
    <Link
      href={item.path}
      class="icon-button icon-button--badged"
      aria-label={label}
      title={label}
      aria-current={active ? "page" : undefined}
    >
      <Icon name={item.icon} />
      {count && (
        <span class="nav-badge" aria-hidden="true" data-count={count}>
          {count}
        </span>
      )}
    </Link>
  );
}

function Header() {
  const who = me.value;
  const active = activeNavPath(currentPath.value);
  const headerItems = navItemsFor(who?.role, true);
  // A manager's queue of orders held as suspected fraud stays live wherever they are.
  useReviewQueue(headerItems.some((item) => item.path === paths.reviews));
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const onSignOut = async () => {
    busy.value = true;
    error.value = null;
    try {
      await signOut();
    } catch (e) {
      error.value = describeError(e, locale.value);
    } finally {
      busy.value = false;
    }
  };
  return (
    // More entries than the account: on a narrow phone the logo alone says "Comptoir", and the
    // name and role keep their room.
    <header class={headerItems.length > 1 ? "topbar topbar--crowded" : "topbar"}>
      <Link href="/" class="topbar__brand" aria-label={t("nav.home")}>
        <img src="/favicon.svg" alt="" width={28} height={28} />
        <span>{t("app.name")}</span>
      </Link>
      {who && (
        <div class="topbar__who" title={t("shell.signedInAs", { name: who.name })}>
          <span class="topbar__name">{who.name}</span>
          <span class="topbar__role">
            {roleLabel(who.role)}
            {who.location ? ` · ${who.location}` : ""}
          </span>
        </div>
      )}
      {headerItems.map((item) => (
        <HeaderLink key={item.path} item={item} active={item.path === active} />
      ))}
      <button
        type="button"
        class="icon-button"
        onClick={onSignOut}
        disabled={busy.value}
        aria-label={busy.value ? t("shell.signingOut") : t("shell.signOut")}
        title={t("shell.signOut")}
      >
        <Icon name="signOut" />
      </button>
      {error.value && (
        <p class="topbar__error" role="alert">
          {error.value}
        </p>
      )}
    </header>
  );
}

function BottomNav() {
  const who = me.value;
  const active = activeNavPath(currentPath.value);
  const items = navItemsFor(who?.role);
  return (
    <nav class="bottomnav" aria-label={t("nav.label")}>
      {items.map((item) => (
        <Link
          key={item.path}
          href={item.path}
          class="bottomnav__item"
          aria-current={item.path === active ? "page" : undefined}
        >
          <Icon name={item.icon} />
          <span>{t(item.label)}</span>
        </Link>
      ))}
    </nav>
  );
}

export function Shell({ children }: { children: ComponentChildren }) {
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        {t("shell.skipToContent")}
      </a>
      <Header />
      <Banners />
      <main id="main" class="shell__main" tabIndex={-1}>
        {children}
      </main>
      <BottomNav />
    </div>
  );
}
