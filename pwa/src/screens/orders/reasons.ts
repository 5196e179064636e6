/**
 * Routing's reasons (a code and its parameters, from the server's `ReasonCode`) said in the
 * reader's language from the catalogues (`src/i18n/routing.*.ts`); in English, word for word
 * the sentence the server sends as `reason`.
 */
import type { Schemas } from "../../api/client";
import { catalogs, type Locale, type MessageKey } from "../../i18n";
import { translate, type Params } from "../../i18n/translate";

export type Reason = Schemas["Reason"];
export type ReasonCode = Schemas["ReasonCode"];
type ReasonLine = Schemas["ReasonLine"];

// Names a list shows before "and N more", as the server lists them.
const LISTED = 3;

const numberFormats = new Map<string, Intl.NumberFormat>();
const pluralRules = new Map<Locale, Intl.PluralRules>();

function number(value: number, locale: Locale, digits: number): string {
  const key = `${locale}:${digits}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
    numberFormats.set(key, format);
  }
  return format.format(value);
}

/** Says one reason in `locale`. */
class Speaker {
  constructor(readonly locale: Locale) {}

  say(key: MessageKey, params?: Params): string {
    return translate(catalogs, this.locale, key, params);
  }

  /** The `.one` / `.other` form of `key` for `count`. */
  plural(key: string, count: number, params?: Params): string {
    let rules = pluralRules.get(this.locale);
    if (!rules) pluralRules.set(this.locale, (rules = new Intl.PluralRules(this.locale)));
    const form = `${key}.${rules.select(count)}`;
    return this.say((form in catalogs.en ? form : `${key}.other`) as MessageKey, params);
  }

  names(items: readonly string[], more = 0): string {
    const shown = items.slice(0, LISTED);
    const count = more + items.length - shown.length;
    const list = shown.join(", ");
    return count > 0 ? this.plural("routing.reason.list.more", count, { list, count }) : list;
  }

  /** "A and B" for two locations, else as `names`. */
  pair(codes: readonly string[]): string {
    const [first, second] = codes;
    if (codes.length === 2 && first !== undefined && second !== undefined) return this.say("routing.reason.list.pair", { first, second });
    return codes.length < 2 ? codes.join("") : this.names(codes);
  }

  km(value: number | null | undefined): string {
    if (value == null) return this.say("routing.reason.km.unknown");
    return this.say("routing.reason.km", { km: number(value, this.locale, value >= 10 ? 0 : 1) });
  }

  money(minor: number | null | undefined): string {
    return number((minor ?? 0) / 100, this.locale, 2);
  }

  short(lines: readonly ReasonLine[] | undefined, more: number | undefined): string {
    const each = (lines ?? []).map((l) => this.say("routing.reason.line.short", { sku: l.sku, available: l.available ?? 0, quantity: l.quantity }));
    return this.names(each, more ?? 0);
  }

  capacity(r: Reason): string {
    if (r.capacity == null) return this.say("routing.reason.at_capacity.today");
    return this.plural("routing.reason.at_capacity", r.capacity, { orders: r.orders ?? 0, capacity: r.capacity });
  }

  inner(r: Reason): string {
    return r.because ? this.explain(r.because) : "";
  }

  unknownPlace(r: Reason): string {
    return r.place_unknown ? this.say("routing.reason.place_unknown") : "";
  }

  explain(r: Reason): string {
    return SENTENCES[r.code](r, this);
  }
}

type Sentence = (r: Reason, s: Speaker) => string;

function simple(code: ReasonCode): Sentence {
  return (r, s) => s.say(`routing.reason.${code}` as MessageKey, {
    location: r.location ?? "", other: r.other ?? "", priority: r.priority ?? 0, other_priority: r.other_priority ?? 0,
    amount: s.money(r.amount), other_amount: s.money(r.other_amount), km: s.km(r.km), other_km: s.km(r.other_km),
  });
}

// Every code the server may send: a code missing here fails the type check.
const SENTENCES: Record<ReasonCode, Sentence> = {
  nothing_to_route: simple("nothing_to_route"),
  pickup_chosen: simple("pickup_chosen"),
  pickup_not_a_location: simple("pickup_not_a_location"),
  pickup_store_refused: (r, s) =>
    s.say(r.because?.code === "no_pickups" ? "routing.reason.pickup_store_refused.no_pickups" : "routing.reason.pickup_store_refused",
      { location: r.location ?? "", because: s.inner(r) }),
  single_location: (r, s) => {
    const where = r.km != null || !r.place_unknown ? s.say("routing.reason.where", { km: s.km(r.km) }) : "";
    return s.say(r.because?.code === "tied" ? "routing.reason.single_location.tied" : "routing.reason.single_location",
      { location: r.location ?? "", because: s.inner(r), where, unknown: s.unknownPlace(r) });
  },
  split: (r, s) => s.say("routing.reason.split", { locations: s.pair(r.locations ?? []), limit: r.limit ?? 0, unknown: s.unknownPlace(r) }),
  out_of_stock: (r, s) => s.say("routing.reason.out_of_stock", { lines: s.short(r.lines, r.more_lines) }),
  split_not_allowed: (r, s) => s.say("routing.reason.split_not_allowed", { lines: s.short(r.lines, r.more_lines) }),
  too_many_splits: (r, s) => s.say("routing.reason.too_many_splits", { limit: r.limit ?? 0, lines: s.short(r.lines, r.more_lines) }),
  waiting_for_capacity: (r, s) => {
    const full = r.locations ?? [];
    return s.plural("routing.reason.waiting_for_capacity", full.length, { locations: s.pair(full), held: s.pair(r.held_at ?? []) });
  },
  only_option: simple("only_option"),
  tied: simple("tied"),
  nearest: simple("nearest"),
  nearer: simple("nearer"),
  cheapest: simple("cheapest"),
  cheaper: simple("cheaper"),
  highest_priority: simple("highest_priority"),
  higher_priority: simple("higher_priority"),
  customers_pickup_store: simple("customers_pickup_store"),
  serves: (r, s) => {
    const each = (r.lines ?? []).map((l) => s.say("routing.reason.line.serves", { quantity: l.quantity, sku: l.sku }));
    return s.say("routing.reason.serves", { lines: s.names(each, r.more_lines ?? 0) });
  },
  holds_until_capacity: (r, s) => s.say("routing.reason.holds_until_capacity", { capacity: s.capacity(r) }),
  same_score: simple("same_score"),
  farther: simple("farther"),
  costlier: simple("costlier"),
  lower_priority: simple("lower_priority"),
  missing_items: (r, s) => {
    const parts = [];
    if (r.missing?.length) parts.push(s.say("routing.reason.missing_items", { skus: s.names(r.missing, r.more_missing ?? 0) }));
    if (r.lines?.length) parts.push(s.say("routing.reason.missing_items.short", { lines: s.short(r.lines, r.more_lines) }));
    return parts.join(s.say("routing.reason.separator"));
  },
  not_in_split: (r, s) =>
    r.because ? s.say("routing.reason.not_in_split.because", { because: s.inner(r) }) : s.say("routing.reason.not_in_split"),
  not_needed: simple("not_needed"),
  inactive: simple("inactive"),
  does_not_ship: simple("does_not_ship"),
  stores_do_not_ship: simple("stores_do_not_ship"),
  no_pickups: simple("no_pickups"),
  at_capacity: (r, s) => s.capacity(r),
  safety_stock: simple("safety_stock"),
};

function known(reason: Reason): boolean {
  return reason.code in SENTENCES && (!reason.because || known(reason.because));
}

/** A reason in `locale`; a code this build does not know, or a decision stored before reasons
 * had codes, shows the server's English `fallback` sentence. */
export function explainReason(reason: Reason | null | undefined, fallback: string, locale: Locale): string {
  if (!reason || !known(reason)) return fallback;
  return new Speaker(locale).explain(reason);
}
