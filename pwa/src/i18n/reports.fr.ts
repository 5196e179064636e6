/** Les rapports dans l'app (screens/reports), en français. */
import type { reportsEn } from "./reports.en";

export const reportsFr: Record<keyof typeof reportsEn, string> = {
  "reconciliation.title": "Rapprochement",
  "reconciliation.day": "Jour",
  "reconciliation.dayHint": "Un jour du calendrier de la boutique (heure de Paris).",
  "reconciliation.download": "Télécharger le CSV",
  "reconciliation.clean": "Rien à signaler pour ce jour : ce qui est parti a été encaissé et facturé.",
  "reconciliation.nothing": "Rien à signaler",
  "reconciliation.total": "Total {amount}",
  "reconciliation.openOrder": "Ouvrir la commande {number}",
  "reconciliation.documents": "Documents :",
  "reconciliation.section.left_not_captured": "Parti sans être encaissé",
  "reconciliation.section.left_without_payment": "Parti sans paiement",
  "reconciliation.section.captured_not_invoiced": "Encaissé sans facture",
  "reconciliation.section.refunded_without_credit_note": "Remboursé sans avoir",
  "reconciliation.section.invoiced_differs": "Facturé ≠ encaissé",
  "reconciliation.section.pending_calls": "Appels au prestataire en attente depuis plus d'une heure",
  "reconciliation.section.unknown": "Autres constats",
  "reconciliation.hint.left_not_captured": "Marchandise expédiée ou remise ce jour, payée par carte via Comptoir, pour laquelle moins a été encaissé qu'elle ne vaut.",
  "reconciliation.hint.left_without_payment": "Marchandise expédiée ou remise ce jour sur des commandes sans aucun paiement via Comptoir.",
  "reconciliation.hint.captured_not_invoiced": "Argent encaissé ce jour sur des commandes dont les factures disent moins.",
  "reconciliation.hint.refunded_without_credit_note": "Remboursements faits ce jour sans avoir, sur des commandes facturées.",
  "reconciliation.hint.invoiced_differs": "Commandes facturées ou payées ce jour dont le facturé (moins les avoirs) diffère de l'encaissé (moins les remboursements).",
  "reconciliation.hint.pending_calls": "Paiements toujours sans réponse du prestataire au bout d'une heure, quel que soit le jour.",
};
