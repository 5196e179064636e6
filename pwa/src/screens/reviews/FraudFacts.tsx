/** A fraud assessment as a manager reads it: the score against the threshold, and the reasons. */
import "./reviews.css";

import { t } from "../../i18n";
import { byWeight, formatPoints, isOver, scoreFill, type FraudAssessment, type FraudReason } from "./reviews";

/** The score against the threshold: in words, and as a bar whose middle is the threshold. */
export function FraudScore({ score, threshold }: { score: number; threshold: number | null }) {
  const over = isOver(score, threshold);
  return (
    <div class={`fraud-score${over ? " fraud-score--over" : ""}`} data-score={score} data-threshold={threshold ?? ""}>
      <p class="fraud-score__words">
        <strong>{t("reviews.score", { score })}</strong>
        {threshold !== null && <span class="muted"> · {t("reviews.threshold", { threshold })}</span>}
      </p>
      {threshold !== null && (
        <div class="fraud-score__bar" role="img" aria-label={t("reviews.scoreLabel", { score, threshold })}>
          <span class="fraud-score__fill" style={{ width: `${Math.round(scoreFill(score, threshold) * 100)}%` }} />
          <span class="fraud-score__mark" />
        </div>
      )}
    </div>
  );
}

/** The rules that added to the score, heaviest first, with their points. */
export function FraudReasons({ reasons, labelledBy }: { reasons: readonly FraudReason[]; labelledBy?: string }) {
  if (!reasons.length) return <p class="muted small">{t("reviews.noReasons")}</p>;
  return (
    <ul class="fraud-reasons" aria-labelledby={labelledBy}>
      {byWeight(reasons).map((r) => (
        <li key={r.code} data-code={r.code}>
          <span class="fraud-reasons__points">{formatPoints(r.points)}</span>
          <span>{r.text || r.code}</span>
        </li>
      ))}
    </ul>
  );
}

/** The order page's section: the score the fraud rules gave the capture, and why. */
export function FraudSection({ fraud }: { fraud: FraudAssessment }) {
  return (
    <section class="fraud-section" aria-labelledby="order-fraud" data-fraud>
      <h2 id="order-fraud" class="section-title">{t("fraud.title")}</h2>
      <FraudScore score={fraud.score} threshold={fraud.threshold} />
      <p class="muted small">{t(isOver(fraud.score, fraud.threshold) ? "fraud.over" : "fraud.under")}</p>
      <FraudReasons reasons={fraud.reasons} />
    </section>
  );
}
