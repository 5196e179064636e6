/** Messages in the page: errors (announced to screen readers) and loading states. */
import type { ComponentChildren } from "preact";

import { t } from "../i18n";

export function ErrorNotice({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div class="notice notice--error" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" class="button button--secondary" onClick={onRetry}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}

export function Loading({ children }: { children?: ComponentChildren }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {children ?? t("common.loading")}
    </p>
  );
}
