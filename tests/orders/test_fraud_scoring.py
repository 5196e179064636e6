"""The fraud scorer (orders/fraud.py): each rule, the sum, the threshold, and its words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from comptoir.orders import fraud
from comptoir.orders.fraud import Facts, History, Rule, RuleKind, Window

K = RuleKind


def facts(**overrides: object) -> Facts:
    base: dict[str, object] = {"total": 5000, "currency": "EUR", "email": "ada@example.fr",
                               "shipping_country": "FR", "shipping_postal_code": "69001"}
    base.update(overrides)
    return Facts(**base)  # type: ignore[arg-type]


def test_an_order_over_the_amount_gets_the_rules_points_and_says_by_how_much() -> None:
    rule = Rule(K.AMOUNT_OVER, points=40, amount=100_000)
    assert fraud.score(facts(total=100_000), [rule]).points == 0
    scored = fraud.score(facts(total=150_000), [rule])
    assert scored.points == 40
    (reason,) = scored.reasons
    assert (reason.code, reason.amount, reason.threshold) == (K.AMOUNT_OVER, 150_000, 100_000)
    assert fraud.text(reason, "en") == "Amount of €1,500.00 over €1,000.00"
    assert fraud.text(reason, "fr") == "Montant de 1\u202f500,00\u00a0€ au-dessus de " \
                                       "1\u202f000,00\u00a0€"


def test_a_new_customer_rule_fires_only_for_a_first_order() -> None:
    rule = Rule(K.NEW_CUSTOMER_AMOUNT_OVER, points=30, amount=20_000)
    big = 50_000
    assert fraud.score(facts(total=big, history=History(earlier_orders=0)), [rule]).points == 30
    assert fraud.score(facts(total=big, history=History(earlier_orders=2)), [rule]).points == 0
    assert fraud.score(facts(total=big), [rule]).points == 0  # history not read: no guess


def test_countries_differ_only_when_the_shop_sent_a_billing_country() -> None:
    rule = Rule(K.COUNTRIES_DIFFER, points=20)
    assert fraud.score(facts(), [rule]).points == 0
    assert fraud.score(facts(billing_country="FR"), [rule]).points == 0
    (reason,) = fraud.score(facts(billing_country="NG"), [rule]).reasons
    assert fraud.text(reason, "en") == "Billing country (NG) differs from the delivery " \
                                       "country (FR)"


def test_velocity_counts_this_order_with_the_earlier_ones() -> None:
    rule = Rule(K.VELOCITY_PHONE, points=25, count=3, minutes=10)
    window = Window(K.VELOCITY_PHONE, 10)
    assert fraud.score(facts(history=History(counts={window: 1})), [rule]).points == 0
    (reason,) = fraud.score(facts(history=History(counts={window: 2})), [rule]).reasons
    assert (reason.count, reason.limit, reason.minutes) == (3, 3, 10)
    assert fraud.text(reason, "fr") == "3 commandes avec le même téléphone en 10 min"


def test_watch_lists_match_postal_codes_without_spaces_and_domains_with_subdomains() -> None:
    postcode = Rule(K.WATCHED_POSTCODE, points=15, values=("93 200", "75*"))
    assert fraud.score(facts(shipping_postal_code="93200"), [postcode]).points == 15
    assert fraud.score(facts(shipping_postal_code="75011"), [postcode]).reasons[0].value == "75011"
    assert fraud.score(facts(billing_postal_code="75011"), [postcode]).points == 15
    assert fraud.score(facts(shipping_postal_code="69001"), [postcode]).points == 0
    domain = Rule(K.WATCHED_EMAIL_DOMAIN, points=10, values=(" Mailinator.com", ""))
    assert fraud.score(facts(email="x@eu.mailinator.com"), [domain]).reasons[0].value == \
        "eu.mailinator.com"
    assert fraud.score(facts(email="x@notmailinator.com"), [domain]).points == 0


def test_many_cards_counts_this_orders_card_among_the_customers() -> None:
    rule = Rule(K.MANY_CARDS, points=35, count=3)
    window = Window(K.MANY_CARDS, None)
    assert fraud.score(facts(history=History(counts={window: 2})), [rule]).points == 0
    (reason,) = fraud.score(facts(history=History(counts={window: 3})), [rule]).reasons
    assert fraud.text(reason, "en") == "3 different cards for this customer"


def test_a_rule_missing_a_figure_never_fires_and_the_admin_is_told_why() -> None:
    broken = Rule(K.VELOCITY_EMAIL, points=50, count=2)  # no minutes
    assert fraud.check_rule(broken) == "A velocity_email rule needs 'minutes'."
    assert fraud.score(facts(history=History(counts={Window(K.VELOCITY_EMAIL, None): 9})),
                       [broken]).points == 0
    assert fraud.check_rule(Rule(K.AMOUNT_OVER, points=-1, amount=1)) is not None
    assert fraud.check_rule(Rule(K.WATCHED_POSTCODE, points=1, values=(" ",))) is not None
    assert fraud.windows([broken]) == ()


def test_only_history_rules_ask_capture_for_counts() -> None:
    rules = [Rule(K.AMOUNT_OVER, points=1, amount=1), Rule(K.COUNTRIES_DIFFER, points=1),
             Rule(K.VELOCITY_EMAIL, points=1, count=2, minutes=5),
             Rule(K.VELOCITY_EMAIL, points=2, count=4, minutes=5),
             Rule(K.MANY_CARDS, points=1, count=3)]
    assert fraud.windows(rules) == (Window(K.MANY_CARDS, None), Window(K.VELOCITY_EMAIL, 5))


def test_reasons_read_back_as_stored() -> None:
    scored = fraud.score(facts(total=9_000, billing_country="BE"),
                         [Rule(K.AMOUNT_OVER, points=5, amount=1_000),
                          Rule(K.COUNTRIES_DIFFER, points=7)])
    assert fraud.loaded(fraud.stored(scored.reasons)) == list(scored.reasons)
    assert fraud.loaded([{"code": "no_such_rule", "points": 1}, "x"]) == []
    assert fraud.loaded(None) == []


# --- properties -----------------------------------------------------------------------------

KINDS = list(RuleKind)
rules_st = st.builds(
    Rule, kind=st.sampled_from(KINDS), points=st.integers(0, 100),
    amount=st.one_of(st.none(), st.integers(0, 200_000)),
    minutes=st.one_of(st.none(), st.sampled_from([5, 10, 60])),
    count=st.one_of(st.none(), st.integers(1, 5)),
    values=st.lists(st.sampled_from(["75*", "93200", "mailinator.com", "example.fr", ""]),
                    max_size=3).map(tuple))
facts_st = st.builds(
    Facts, total=st.integers(0, 300_000), currency=st.just("EUR"),
    email=st.sampled_from([None, "a@example.fr", "b@mailinator.com"]),
    shipping_country=st.sampled_from(["FR", "BE"]),
    billing_country=st.sampled_from([None, "FR", "DE"]),
    shipping_postal_code=st.sampled_from([None, "75011", "69001", "93200"]),
    billing_postal_code=st.sampled_from([None, "75001"]),
    history=st.builds(
        History, earlier_orders=st.one_of(st.none(), st.integers(0, 3)),
        counts=st.dictionaries(
            st.builds(Window, kind=st.sampled_from(KINDS),
                      minutes=st.sampled_from([None, 5, 10, 60])),
            st.integers(0, 6), max_size=6)))


@given(facts_st, st.lists(rules_st, max_size=8))
def test_the_score_is_the_sum_of_its_reasons_points(order: Facts, rules: list[Rule]) -> None:
    scored = fraud.score(order, rules)
    assert scored.points == sum(reason.points for reason in scored.reasons) >= 0
    assert len(scored.reasons) <= len(rules)
    for reason in scored.reasons:
        assert fraud.text(reason, "fr") and fraud.text(reason, "en")


@given(facts_st, st.lists(rules_st, min_size=1, max_size=8), st.data())
def test_disabling_a_rule_never_raises_the_score(
    order: Facts, rules: list[Rule], data: st.DataObject
) -> None:
    dropped = data.draw(st.integers(0, len(rules) - 1))
    fewer = rules[:dropped] + rules[dropped + 1:]
    assert fraud.score(order, fewer).points <= fraud.score(order, rules).points


@given(facts_st, st.lists(rules_st, max_size=8))
def test_without_a_threshold_nothing_is_ever_held(order: Facts, rules: list[Rule]) -> None:
    scored = fraud.score(order, rules)
    assert not scored.holds(None)
    assert scored.holds(scored.points - 1) == (scored.points > scored.points - 1)
    assert not scored.holds(scored.points)  # over the threshold, not at it


def test_the_admin_offers_exactly_the_kinds_the_scorer_knows() -> None:
    from comptoir.config.models import FraudRuleKind

    assert [kind.value for kind in FraudRuleKind] == [kind.value for kind in RuleKind]
