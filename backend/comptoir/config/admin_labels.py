"""What the admin calls each table, column and menu, in the retailer's words, French and English.

piccolo-admin labels a column with the title of its JSON schema (by default the column's name,
"Address Line1") and has no verbose names; ``admin.py`` rewrites the schema it sends, in the
language the browser asks for (``Accept-Language``: French when it prefers French, else
English, as piccolo-admin's own words do). The sidebar still lists tables by their database
name, which piccolo-admin uses in its URLs; each table's page starts with its name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GROUPS", "TABLES", "Label", "TableLabels", "language"]


@dataclass(frozen=True, slots=True)
class Label:
    fr: str
    en: str

    def in_(self, lang: str) -> str:
        return self.fr if lang == "fr" else self.en


@dataclass(frozen=True, slots=True)
class TableLabels:
    name: Label
    help: Label
    columns: dict[str, Label] = field(default_factory=dict)
    column_help: dict[str, Label] = field(default_factory=dict)


def language(accept_language: str) -> str:
    """``fr`` when the first language the browser names is French, else ``en``."""
    first = accept_language.split(",")[0].strip().lower()
    return "fr" if first.startswith("fr") else "en"


L = Label
ADDRESS = {
    "address_line1": L("Adresse", "Address"),
    "address_line2": L("Complément d'adresse", "Address (continued)"),
    "postal_code": L("Code postal", "Postal code"),
    "city": L("Ville", "City"),
    "country": L("Pays", "Country"),
}
COUNTRY_HELP = L("Code ISO à deux lettres : FR, BE, DE…", "Two-letter ISO code: FR, BE, DE…")
CENTS = L("En centimes : 4900 = 49,00 €.", "In cents: 4900 = 49.00.")

GROUPS: dict[str, Label] = {
    "Network": L("Réseau : magasins, entrepôts, transporteurs",
                 "Network: stores, warehouses, carriers"),
    "Routing": L("Attribution des commandes", "Order routing"),
    "Sales": L("Ventes : canaux, livraison, TVA", "Sales: channels, delivery, VAT"),
    "Company": L("Société", "Company"),
    "Staff": L("Personnel", "Staff"),
}

TABLES: dict[str, TableLabels] = {
    "config_location": TableLabels(
        name=L("Magasins et entrepôts", "Stores and warehouses"),
        help=L("Chaque lieu qui détient du stock : entrepôt, magasin ou logisticien (3PL).",
               "Every place that holds stock: a warehouse, a store or a 3PL."),
        columns={
            "code": L("Code", "Code"), "name": L("Nom", "Name"), "kind": L("Type", "Kind"),
            **ADDRESS,
            "latitude": L("Latitude", "Latitude"), "longitude": L("Longitude", "Longitude"),
            "timezone": L("Fuseau horaire", "Time zone"),
            "ships": L("Expédie des colis", "Ships parcels"),
            "serves_pickups": L("Retrait en magasin", "Store pickup"),
            "daily_order_capacity": L("Capacité (commandes par jour)",
                                      "Capacity (orders a day)"),
            "pickup_hold_days": L("Garde d'un retrait (jours)", "Pickup kept for (days)"),
            "opening_hours": L("Horaires d'ouverture", "Opening hours"),
            "active": L("Actif", "Active"),
            "routing_priority": L("Priorité d'attribution", "Routing priority"),
            "shipping_cost": L("Coût d'un colis", "Cost of a parcel"),
            "webhook_url": L("Webhook du logisticien", "3PL webhook URL"),
            "webhook_secret": L("Secret du webhook", "Webhook secret"),
        },
        column_help={
            "country": COUNTRY_HELP, "shipping_cost": CENTS,
            "kind": L("warehouse : entrepôt, store : magasin, 3pl : logisticien.",
                      "warehouse, store, or 3pl (a third-party logistics provider)."),
            "daily_order_capacity": L("Vide : sans limite (ou la capacité par défaut des "
                                      "magasins).", "Empty: no limit (or stores' default)."),
            "routing_priority": L("Plus haut : préféré.", "Higher: preferred."),
        },
    ),
    "config_carrier": TableLabels(
        name=L("Transporteurs", "Carriers"),
        help=L("Les transporteurs à qui les colis sont remis.", "Carriers parcels are given to."),
        columns={"code": L("Code", "Code"), "name": L("Nom", "Name"),
                 "tracking_url_template": L("Lien de suivi", "Tracking link"),
                 "active": L("Actif", "Active")},
        column_help={"tracking_url_template": L("{tracking} y devient le numéro du colis.",
                                                "{tracking} becomes the parcel's number.")},
    ),
    "config_channel": TableLabels(
        name=L("Canaux de vente", "Sales channels"),
        help=L("D'où viennent les commandes : site web, marketplace, caisse, téléphone.",
               "Where orders come from: web shop, marketplace, till, phone."),
        columns={"code": L("Code", "Code"), "name": L("Nom", "Name"), "kind": L("Type", "Kind"),
                 "currency": L("Devise", "Currency"),
                 "prices_include_tax": L("Prix TTC", "Prices include VAT"),
                 "active": L("Actif", "Active"),
                 "id_check_above": L("Pièce d'identité au-delà de",
                                     "ID check above"),
                 "payment_provider": L("Paiements", "Payments"),
                 "capture_policy": L("Débit de la carte", "Card charged"),
                 "fraud_threshold": L("Seuil de fraude (points)", "Fraud threshold (points)")},
        column_help={"payment_provider": L(
            "Qui encaisse : sandbox (démo), stripe, external (le canal lui-même : "
            "marketplace, caisse) ou none.",
            "Who takes the money: sandbox (demo), stripe, external (the channel itself: "
            "marketplace, till) or none."),
            "capture_policy": L(
            "on_shipment : chaque colis ou retrait est débité à son départ ; at_capture : "
            "tout est débité dès l'autorisation.",
            "on_shipment: each parcel or pickup is charged as it leaves; at_capture: all is "
            "charged as soon as it is authorized."),
            "fraud_threshold": L(
            "Une commande qui totalise plus de points que ce seuil (règles anti-fraude) est "
            "mise en attente pour vérification. Vide : pas de contrôle sur ce canal.",
            "An order scoring more points than this (fraud rules) is held for review. "
            "Empty: no fraud screening on this channel."),
            "id_check_above": L(
            "Les retraits des commandes au-delà de ce total, en centimes de la devise du canal "
            "(50000 = 500,00), ne sont remis qu'après contrôle d'une pièce d'identité. "
            "Vide : jamais.",
            "Pickups of orders above this total, in cents of the channel's currency "
            "(50000 = 500.00), are handed over only after an ID check. Empty: never.")},
    ),
    "config_fraud_rule": TableLabels(
        name=L("Règles anti-fraude", "Fraud rules"),
        help=L("Chaque règle qu'une commande déclenche ajoute ses points à son score ; au-delà "
               "du seuil de son canal, la commande attend la vérification d'un responsable.",
               "Each rule an order trips adds its points to its score; over its channel's "
               "threshold, the order waits for a manager's review."),
        columns={"channel": L("Canal de vente", "Sales channel"), "kind": L("Règle", "Rule"),
                 "points": L("Points", "Points"), "amount": L("Montant", "Amount"),
                 "minutes": L("En (minutes)", "Within (minutes)"),
                 "at_least": L("Au moins (nombre)", "At least (count)"),
                 "values": L("Liste surveillée", "Watch list"),
                 "active": L("Active", "Active")},
        column_help={
            "channel": L("Vide : tous les canaux.", "Empty: every channel."),
            "kind": L(
                "amount_over : montant au-delà de « Montant » ; new_customer_amount_over : "
                "idem pour une première commande ; countries_differ : pays de facturation "
                "différent de la livraison ; velocity_email / velocity_phone / "
                "velocity_address : « Au moins » commandes du même e-mail, téléphone ou "
                "adresse en « Minutes » ; watched_postcode / watched_email_domain : code "
                "postal ou domaine de la liste ; many_cards : « Au moins » cartes différentes "
                "pour le client.",
                "amount_over: total over 'Amount'; new_customer_amount_over: the same for a "
                "first order; countries_differ: billing country differs from delivery; "
                "velocity_email / velocity_phone / velocity_address: 'At least' orders from "
                "the same e-mail, phone or address within 'Minutes'; watched_postcode / "
                "watched_email_domain: postal code or domain on the list; many_cards: 'At "
                "least' distinct cards for the customer."),
            "amount": CENTS,
            "values": L("Séparés par des virgules : 93200, 75*, mailinator.com",
                        "Comma-separated: 93200, 75*, mailinator.com"),
        },
    ),
    "config_shipping_rate": TableLabels(
        name=L("Frais de livraison", "Delivery fees"),
        help=L("Ce qu'un canal facture pour chaque mode de livraison.",
               "What a channel charges for each delivery method."),
        columns={"channel": L("Canal de vente", "Sales channel"),
                 "method": L("Mode", "Method"), "fee": L("Frais", "Fee"),
                 "free_from": L("Offerts dès", "Free from")},
        column_help={"fee": CENTS, "free_from": L("Total en centimes ; vide : jamais offerts.",
                                                  "Total in cents; empty: never free.")},
    ),
    "config_tax_rate": TableLabels(
        name=L("Taux de TVA", "VAT rates"),
        help=L("Le taux de TVA de chaque classe de produits, dans chaque pays livré (une "
               "ligne par pays et classe).",
               "The VAT rate of each tax class in each country delivered to (one row per "
               "country and class)."),
        columns={"country": L("Pays", "Country"), "tax_class": L("Classe", "Tax class"),
                 "rate_bp": L("Taux", "Rate"), "name": L("Libellé", "Name")},
        column_help={"country": COUNTRY_HELP,
                     "tax_class": L("standard, reduced (France : 10 %), super_reduced "
                                    "(5,5 % : livres, alimentation), zero. Chaque SKU a la "
                                    "sienne ; une classe sans taux pour un pays y refuse "
                                    "la commande.",
                                    "standard, reduced (France: 10 %), super_reduced (5.5 %: "
                                    "books, food), zero. Each SKU has one; a class with no "
                                    "rate for a country refuses orders delivered there."),
                     "rate_bp": L("En points de base : 2000 = 20 %.",
                                  "In basis points: 2000 = 20 %.")},
    ),
    "config_company": TableLabels(
        name=L("Société", "Company"),
        help=L("Les mentions légales imprimées sur les factures.",
               "The legal details printed on invoices."),
        columns={"legal_name": L("Raison sociale", "Legal name"), **ADDRESS,
                 "vat_number": L("N° de TVA intracommunautaire", "VAT number"),
                 "email": L("E-mail", "E-mail"), "phone": L("Téléphone", "Phone"),
                 "legal_form": L("Forme juridique", "Legal form"),
                 "share_capital": L("Capital social", "Share capital"),
                 "siren": L("SIREN", "SIREN"), "siret": L("SIRET", "SIRET"),
                 "rcs": L("RCS", "Trade register (RCS)"),
                 "website": L("Site web", "Website"),
                 "logo_path": L("Logo (fichier)", "Logo (file)"),
                 "invoice_prefix": L("Préfixe des factures", "Invoice prefix"),
                 "credit_note_prefix": L("Préfixe des avoirs", "Credit note prefix"),
                 "invoicing_policy": L("Facturation", "Invoicing"),
                 "payment_terms_days": L("Délai de paiement (jours)", "Payment terms (days)"),
                 "late_penalty_rate": L("Taux des pénalités de retard",
                                        "Late-payment penalty rate"),
                 "customers_account": L("Compte clients", "Customers account")},
        column_help={
            "country": COUNTRY_HELP,
            "share_capital": L("Tel qu'imprimé : « 10 000 € ».", "As printed: '10 000 €'."),
            "logo_path": L("Chemin d'un fichier sous var/ ; vide : pas de logo.",
                           "Path of a file under var/; empty: no logo."),
            "invoice_prefix": L("Numéros FA-2026-000001 : sans trou, par année.",
                                "Numbers FA-2026-000001: gapless, per year."),
            "invoicing_policy": L(
                "per_shipment : une facture par colis expédié ou retrait ; per_order : une "
                "seule quand tout est parti.",
                "per_shipment: an invoice for each parcel or pickup; per_order: one, once "
                "everything has left."),
            "payment_terms_days": L("Clients professionnels : échéance après ce délai.",
                                    "Business customers: due after this many days."),
            "customers_account": L("Pour l'export comptable.", "For the accounting export."),
        },
    ),
    "config_accounting_account": TableLabels(
        name=L("Comptes comptables", "Accounting accounts"),
        help=L("Les comptes de ventes et de TVA de chaque taux, pour l'export comptable.",
               "The sales and VAT accounts of each rate, for the accounting export."),
        columns={"vat_rate_bp": L("Taux", "Rate"),
                 "sales_account": L("Compte de ventes", "Sales account"),
                 "vat_account": L("Compte de TVA collectée", "VAT account")},
        column_help={"vat_rate_bp": L("En points de base : 2000 = 20 %.",
                                      "In basis points: 2000 = 20 %.")},
    ),
    "config_routing_policy": TableLabels(
        name=L("Règles d'attribution des commandes", "Order routing policy"),
        help=L("Comment chaque commande est attribuée à un lieu : une seule ligne (sans elle, "
               "les réglages par défaut). Chaque lieu reçoit un score, le plus bas l'emporte.",
               "How each order is given to a location: one row (without it, the defaults). "
               "Each location gets a score; the lowest wins."),
        columns={
            "distance_weight": L("Poids de la distance", "Distance weight"),
            "shipping_cost_weight": L("Poids du coût d'expédition", "Shipping cost weight"),
            "priority_weight": L("Poids de la priorité", "Priority weight"),
            "split_penalty": L("Pénalité par lieu supplémentaire", "Split penalty"),
            "max_splits": L("Lieux au plus par commande", "Most locations per order"),
            "stores_may_ship": L("Les magasins expédient", "Stores may ship"),
            "default_store_capacity": L("Capacité par défaut d'un magasin",
                                        "Default store capacity"),
            "capacity_applies_to_pickups": L("La capacité compte aussi les retraits",
                                             "Capacity also applies to pickups"),
        },
        column_help={
            "distance_weight": L("Points par km depuis l'adresse de livraison.",
                                 "Points per km from the delivery address."),
            "shipping_cost_weight": L("Points par centime du coût d'un colis.",
                                      "Points per cent of a parcel's cost."),
            "priority_weight": L("Points par niveau de priorité sous le meilleur.",
                                 "Points per priority level below the best."),
            "split_penalty": L("Points par lieu en plus quand la commande est partagée.",
                               "Points per extra location when an order is split."),
            "max_splits": L("1 : jamais partagée.", "1: never split."),
            "default_store_capacity": L("Commandes par jour des magasins sans capacité "
                                        "propre ; vide : sans limite.",
                                        "Orders a day of stores with none of their own; "
                                        "empty: no limit."),
        },
    ),
    "config_channel_safety_stock": TableLabels(
        name=L("Stock retenu par canal", "Channel safety stock"),
        help=L("Unités de chaque article qu'un lieu garde hors des commandes d'un canal "
               "(une marketplace, par exemple).",
               "Units of every SKU a location keeps back from a channel's orders."),
        columns={"channel": L("Canal de vente", "Sales channel"),
                 "location": L("Lieu", "Location"), "units": L("Unités retenues", "Units")},
        column_help={"location": L("Vide : tous les lieux.", "Empty: every location.")},
    ),
    "config_staff_profile": TableLabels(
        name=L("Personnel : rôle et magasin", "Staff: role and store"),
        help=L("Le rôle et le magasin de chaque compte. Pour créer ou modifier un membre du "
               "personnel en une fois, utilisez le formulaire « Membre du personnel (staff "
               "member) ».",
               "Each account's role and store. To add or change a staff member in one go, "
               "use the “Membre du personnel (staff member)” form."),
        columns={"user": L("Compte", "Account"), "role": L("Rôle", "Role"),
                 "location": L("Magasin de rattachement", "Home store")},
    ),
    "piccolo_user": TableLabels(
        name=L("Comptes de connexion", "Sign-in accounts"),
        help=L("Les comptes qui se connectent à Comptoir. Rôle et magasin : le formulaire "
               "« Membre du personnel (staff member) ».",
               "The accounts that sign in to Comptoir. Role and store: the “Membre du "
               "personnel (staff member)” form."),
        columns={"username": L("Identifiant", "Username"),
                 "password": L("Mot de passe", "Password"),
                 "first_name": L("Prénom", "First name"), "last_name": L("Nom", "Last name"),
                 "email": L("E-mail", "E-mail"), "active": L("Actif", "Active"),
                 "admin": L("Accès à l'administration", "Admin access"),
                 "superuser": L("Super-utilisateur", "Superuser"),
                 "last_login": L("Dernière connexion", "Last sign-in")},
    ),
}
