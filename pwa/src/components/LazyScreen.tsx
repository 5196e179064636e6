/** A screen loaded on first use (its own JavaScript chunk), so the first page stays small. */
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

import { t } from "../i18n";
import { ErrorNotice, Loading } from "./Notice";

export function lazyScreen<P extends object>(
  load: () => Promise<ComponentType<P>>,
): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let loading: Promise<ComponentType<P>> | null = null;

  return function LazyScreen(props: P) {
    const [, setReady] = useState(false);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded || failed) return;
      let live = true;
      loading ??= load();
      loading.then(
        (component) => {
          loaded = component;
          if (live) setReady(true);
        },
        () => {
          loading = null; // offline and not cached yet: try again when asked
          if (live) setFailed(true);
        },
      );
      return () => {
        live = false;
      };
    }, [failed]);
    if (loaded) {
      const Screen = loaded;
      return <Screen {...props} />;
    }
    if (failed) return <ErrorNotice message={t("error.chunk")} onRetry={() => setFailed(false)} />;
    return <Loading />;
  };
}
