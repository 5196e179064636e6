/** The sign-in screen: username and password, the server's refusal shown as it says it. */
import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";

import { describeError } from "../../api/problem";
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { ErrorNotice } from "../../components/Notice";
import { locale, t } from "../../i18n";
import { signIn } from "../../state/session";

export function SignIn() {
  const username = useSignal("");
  const password = useSignal("");
  const showPassword = useSignal(false);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const passwordField = useRef<HTMLInputElement>(null);

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (busy.value) return;
    if (!username.value.trim() || !password.value) {
      error.value = t("signin.missing");
      return;
    }
    busy.value = true;
    error.value = null;
    try {
      await signIn(username.value.trim(), password.value);
    } catch (e) {
      error.value = describeError(e, locale.value);
      password.value = "";
      passwordField.current?.focus();
    } finally {
      busy.value = false;
    }
  };

  const passwordProps = {
    ref: passwordField,
    name: "password",
    autocomplete: "current-password",
    required: true,
    value: password.value,
    onInput: (e: InputEvent) => (password.value = (e.currentTarget as HTMLInputElement).value),
  };

  return (
    <div class="signin">
      <main class="signin__card" id="main">
        <div class="signin__brand">
          <img src="/icons/icon-192.png" alt="" width={72} height={72} />
          <h1>{t("app.name")}</h1>
          <p class="muted">{t("app.tagline")}</p>
        </div>
        <form class="form" onSubmit={onSubmit} noValidate aria-busy={busy.value}>
          <h2 class="form__title">{t("signin.title")}</h2>
          {error.value && <ErrorNotice message={error.value} />}
          <label class="field">
            <span class="field__label">{t("signin.username")}</span>
            <input
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              required
              value={username.value}
              onInput={(e) => (username.value = e.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span class="field__label">{t("signin.password")}</span>
            {/* Same element either way (only its type changes), so focus and caret stay. */}
            {showPassword.value ? (
              <input type="text" {...passwordProps} />
            ) : (
              <input type="password" {...passwordProps} />
            )}
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={showPassword.value}
              onChange={(e) => (showPassword.value = e.currentTarget.checked)}
            />
            <span>{t("signin.showPassword")}</span>
          </label>
          <button type="submit" class="button button--primary button--block" disabled={busy.value}>
            {busy.value ? t("signin.busy") : t("signin.submit")}
          </button>
        </form>
        <LanguageSwitch />
      </main>
    </div>
  );
}
