/** The app: the sign-in screen, or the signed-in shell showing the screen of the current path. */
import { useEffect, useRef } from "preact/hooks";

import { describeError } from "./api/problem";
import { lazyScreen } from "./components/LazyScreen";
import { ErrorNotice, Loading } from "./components/Notice";
import { Shell } from "./components/Shell";
import { locale, t } from "./i18n";
import { matchRoute, type Route } from "./routes";
import { Account } from "./screens/account/Account";
import { Home } from "./screens/home/Home";
import { LocationPage } from "./screens/locations/LocationPage";
import { NotFound } from "./screens/not-found/NotFound";
import { SignIn } from "./screens/signin/SignIn";
import { currentPath } from "./state/router";
import { restoreSession, session } from "./state/session";

// Screens past the first one load on first use: the first page's JavaScript stays small.
const StockSearch = lazyScreen(() => import("./screens/stock/StockSearch").then((m) => m.StockSearch));
const SkuPage = lazyScreen(() => import("./screens/stock/SkuPage").then((m) => m.SkuPage));
const OrdersList = lazyScreen(() => import("./screens/orders/OrdersList").then((m) => m.OrdersList));
const OrderPage = lazyScreen(() => import("./screens/orders/OrderPage").then((m) => m.OrderPage));
const Dashboard = lazyScreen(() => import("./screens/dashboard/Dashboard").then((m) => m.Dashboard));
const StoreQueue = lazyScreen(() => import("./screens/store/StoreQueue").then((m) => m.StoreQueue));
const FulfillmentPage = lazyScreen(() => import("./screens/store/FulfillmentPage").then((m) => m.FulfillmentPage));
const InvoicesList = lazyScreen(() => import("./screens/invoices/InvoicesList").then((m) => m.InvoicesList));
const DocumentPage = lazyScreen(() => import("./screens/invoices/DocumentPage").then((m) => m.DocumentPage));
const Reconciliation = lazyScreen(() => import("./screens/reports/Reconciliation").then((m) => m.Reconciliation));
const ReviewQueue = lazyScreen(() => import("./screens/reviews/ReviewQueue").then((m) => m.ReviewQueue));
const OutboxPage = lazyScreen(() => import("./screens/outbox/OutboxPage").then((m) => m.OutboxPage));

// Opened on the orders list: its code and first page are asked for while the session is
// checked, not one after the other once it is (the list shows a round trip or two sooner).
if (matchRoute(location.pathname).screen === "orders") {
  void import("./screens/orders/OrdersList").then((m) => m.prefetch(), () => undefined);
}

function Screen({ route }: { route: Route }) {
  switch (route.screen) {
    case "home":
      return <Home />;
    case "location":
      return <LocationPage code={route.code} />;
    case "account":
      return <Account />;
    case "stock":
      return <StockSearch />;
    case "sku":
      return <SkuPage sku={route.sku} />;
    case "outbox":
      return <OutboxPage />;
    case "orders":
      return <OrdersList />;
    case "order":
      return <OrderPage number={route.number} />;
    case "dashboard":
      return <Dashboard />;
    case "store":
      return <StoreQueue />;
    case "fulfillment":
      return <FulfillmentPage id={route.id} />;
    case "invoices":
      return <InvoicesList />;
    case "invoice":
      return <DocumentPage kind="invoice" number={route.number} />;
    case "credit-note":
      return <DocumentPage kind="credit_note" number={route.number} />;
    case "reconciliation":
      return <Reconciliation />;
    case "reviews":
      return <ReviewQueue />;
    case "not-found":
      return <NotFound />;
  }
}

/** After an in-app navigation, move focus to the new screen's heading for screen readers. */
function useFocusOnNavigation(path: string) {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>("#main h1")?.setAttribute("tabindex", "-1");
    document.querySelector<HTMLElement>("#main h1")?.focus();
  }, [path]);
}

export function App() {
  const path = currentPath.value;
  useFocusOnNavigation(path);
  const current = session.value;
  switch (current.status) {
    case "checking":
      return (
        <div class="center">
          <Loading>{t("session.checking")}</Loading>
        </div>
      );
    case "unreachable":
      return (
        <div class="center">
          <h1>{t("session.unreachable")}</h1>
          <ErrorNotice message={describeError(current.error, locale.value)} onRetry={restoreSession} />
        </div>
      );
    case "reconnecting":
      return (
        <div class="center">
          <Loading>{t("session.reconnecting")}</Loading>
        </div>
      );
    case "signed-out":
      return <SignIn />;
    case "signed-in":
      return (
        <Shell>
          <Screen route={matchRoute(path)} />
        </Shell>
      );
  }
}
