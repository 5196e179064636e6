/** Switch between French and English; the choice is kept on this device. */
import { LANGUAGE_NAMES, LOCALES, locale, setLocale, t } from "../i18n";

export function LanguageSwitch() {
  return (
    <fieldset class="segmented">
      <legend class="segmented__legend">{t("account.language")}</legend>
      {LOCALES.map((code) => (
        <label key={code} class="segmented__option">
          <input
            type="radio"
            name="language"
            value={code}
            checked={locale.value === code}
            onChange={() => setLocale(code)}
          />
          <span lang={code}>{LANGUAGE_NAMES[code]}</span>
        </label>
      ))}
    </fieldset>
  );
}
