/**
 * The server's refusals (problem+json `code`) in languages other than English.
 * The server writes its `detail` in English for people, so English needs no table (but for
 * the few refusals the phone makes itself); a code missing here falls back to that `detail`. `{field}` takes the problem's own field
 * of that name (`{on_hand}` from a refusal that carries `on_hand`).
 */
import type { Locale } from "./translate";

export const problemTexts: Partial<Record<Locale, Record<string, string>>> = {
  // English only for the refusals the counter also makes itself, offline (screens/store/
  // counter.ts): it must say the server's sentence without the server.
  en: {
    wrong_pickup_code:
      "This pickup code does not match the order; check it with the customer, or ask a manager to override.",
    id_check_required:
      "Check the customer's ID before handing over this order (its amount asks for it), then tick the box.",
  },
  fr: {
    bad_credentials: "Identifiant ou mot de passe incorrect.",
    account_disabled: "Ce compte est désactivé.",
    no_staff_profile: "Ce compte n'a pas de profil d'équipe : demandez à un administrateur.",
    too_many_attempts: "Trop de tentatives de connexion depuis cette adresse : réessayez dans {retry_after} s.",
    session_store_unavailable:
      "La connexion est momentanément indisponible ; rien n'a été modifié. Réessayez dans quelques secondes.",
    too_many_requests: "Trop de demandes ; patientez un instant.",
    not_authenticated: "Votre session a expiré : reconnectez-vous.",
    csrf_failed: "Votre session a expiré : reconnectez-vous.",
    forbidden: "Votre rôle ne permet pas cette action.",
    not_found: "Introuvable.",
    unknown_location: "Ce site n'existe pas.",
    database_unavailable: "La base de données est occupée ; rien n'a été modifié. Réessayez.",
    internal_error: "Le serveur a eu un problème ; rien n'a été modifié.",
    malformed_json: "La demande est mal formée.",
    invalid_request: "La demande est invalide.",
    invalid_cursor: "La liste a changé : recommencez la recherche.",
    unknown_sku: "Ce SKU n'existe pas.",
    no_capacity:
      "Les unités de cette modification ne sont que sur des sites sans capacité restante aujourd'hui : réessayez demain ou relevez leur capacité.",
    other_location: "Vous ne pouvez modifier le stock que de votre site, pas de {location}.",
    reason_required: "Indiquez pourquoi le stock change (le motif est obligatoire).",
    zero_delta: "Un ajustement de 0 ne change rien.",
    negative_stock: "Le stock en rayon est de {on_hand} : retirer autant le rendrait négatif.",
    stock_reserved:
      "{reserved} des {on_hand} unités en stock sont réservées pour des commandes : le stock ne peut pas descendre en dessous.",
    negative_count: "Un comptage ne peut pas être négatif.",
    quantity_too_large: "Cette quantité dépasse ce que Comptoir accepte.",
    text_too_long: "Ce texte est trop long.",
    unknown_movement_kind: "Ce type de mouvement de stock n'existe pas.",
    wrong_pickup_code:
      "Ce code de retrait ne correspond pas à la commande : vérifiez-le avec le client, ou demandez à un responsable de remettre sans le code.",
    pickup_code_required: "Scannez ou tapez le code de retrait du client.",
    override_not_allowed: "Seul un responsable peut remettre une commande sans son code de retrait.",
    id_check_required:
      "Vérifiez une pièce d'identité du client avant de remettre cette commande (son montant l'exige), puis cochez la case.",
    fulfillment_not_found: "Ce travail n'est pas (ou plus) dans la file de votre magasin.",
    quantity_exceeds_line: "{sku} : plus d'unités que ce qu'il reste à fournir.",
    nothing_to_ship: "Il ne reste rien à expédier.",
  },
};
