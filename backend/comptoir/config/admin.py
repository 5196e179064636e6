"""piccolo-admin, built once and mounted at /admin (it keeps its own login and CSRF).

Its tables and columns carry the retailer's words (``admin_labels.py``), in the browser's
language; a staff member is added or changed in one form (account, role and store together).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from piccolo.apps.user.tables import BaseUser
from piccolo.table import Table
from piccolo_admin.endpoints import FormConfig, TableConfig, create_admin
from piccolo_api.crud.endpoints import OrderBy
from piccolo_api.crud.hooks import Hook, HookType
from piccolo_api.session_auth.tables import SessionsBase
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request

from comptoir.config.admin_labels import GROUPS, TABLES, Label, TableLabels, language
from comptoir.config.models import (
    AccountingAccount,
    Carrier,
    ChannelSafetyStock,
    Company,
    FraudRule,
    Location,
    RoutingPolicy,
    SalesChannel,
    ShippingRate,
    StaffProfile,
    TaxClass,
    TaxRate,
)
from comptoir.countries import country_code
from comptoir.errors import InvalidInput

__all__ = ["STAFF_FORM", "StaffMemberForm", "build_admin"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]


def _checked_country(raw: Any) -> str:
    try:
        return country_code(str(raw))
    except InvalidInput as exc:  # piccolo-admin shows a 400's detail next to the form
        raise HTTPException(status_code=400, detail=exc.detail) from None


def _country_hooks(table: type[Table]) -> list[Hook]:
    """A new or edited row names a country ISO 3166-1 lists (stored in capitals)."""
    column = table.country  # type: ignore[attr-defined]

    def on_save(row: Table) -> Table:
        row.country = _checked_country(row.country)  # type: ignore[attr-defined]
        return row

    def on_patch(row_id: Any, values: dict[Any, Any]) -> dict[Any, Any]:
        if column in values:
            values[column] = _checked_country(values[column])
        return values

    return [Hook(HookType.pre_save, on_save), Hook(HookType.pre_patch, on_patch)]


def _checked_tax_class(raw: Any) -> str:
    """A rate row's class: 'standard' when none is given (what every SKU starts as)."""
    value = str(raw or TaxClass.standard.value).strip().lower()
    if value not in {tax_class.value for tax_class in TaxClass}:
        raise HTTPException(status_code=400, detail=(
            f"Tax class '{raw}' is not one of "
            f"{', '.join(tax_class.value for tax_class in TaxClass)}."))
    return value


def _tax_rate_hooks() -> list[Hook]:
    """A rate names an ISO country and one of the tax classes (standard by default).

    One hook per kind: piccolo-api keeps only the last run of hooks of a kind in a row."""
    country_save, country_patch = (hook.callable for hook in _country_hooks(TaxRate))

    def on_save(row: Table) -> Table:
        row = country_save(row)
        row.tax_class = _checked_tax_class(row.tax_class)  # type: ignore[attr-defined]
        return row

    def on_patch(row_id: Any, values: dict[Any, Any]) -> dict[Any, Any]:
        values = country_patch(row_id, values)
        for key in (TaxRate.tax_class, "tax_class"):
            if key in values:
                values[key] = _checked_tax_class(values[key])
        return values

    return [Hook(HookType.pre_save, on_save), Hook(HookType.pre_patch, on_patch)]


def _checked_fraud_rule(values: dict[str, Any]) -> None:
    """A rule the scorer can check: a known kind, points not negative, and the figures its
    kind needs (``orders.fraud.check_rule``); 400 with the reason otherwise."""
    from comptoir.orders import fraud  # the rules are the orders domain's, read at save

    kind = str(values.get("kind") or "")
    try:
        rule_kind = fraud.RuleKind(kind)
    except ValueError:
        raise HTTPException(status_code=400, detail=(
            f"Unknown kind of rule '{kind}'; one of "
            f"{', '.join(k.value for k in fraud.RuleKind)}.")) from None

    def number(name: str) -> int | None:
        value = values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise HTTPException(status_code=400,
                                detail=f"'{name}' must be a whole number.") from None

    rule = fraud.Rule(rule_kind, points=number("points") or 0, amount=number("amount"),
                      minutes=number("minutes"), count=number("at_least"),
                      values=tuple(str(values.get("values") or "").split(",")))
    problem = fraud.check_rule(rule)
    if problem is not None:
        raise HTTPException(status_code=400,
                            detail=problem.replace("'count'", "'at_least'"))


_RULE_FIELDS = ("kind", "points", "amount", "minutes", "at_least", "values")


def _fraud_rule_hooks() -> list[Hook]:
    """A rule saved or changed in the admin is one the scorer can check."""

    def on_save(row: Table) -> Table:
        _checked_fraud_rule({name: getattr(row, name) for name in _RULE_FIELDS})
        return row

    async def on_patch(row_id: Any, values: dict[Any, Any]) -> dict[Any, Any]:
        current = await FraudRule.select(*(getattr(FraudRule, name) for name in _RULE_FIELDS)
                                         ).where(FraudRule._meta.primary_key == row_id).first()
        merged: dict[str, Any] = dict(current or {})
        for key, value in values.items():
            merged[key if isinstance(key, str) else key._meta.name] = value
        _checked_fraud_rule(merged)
        return values

    return [Hook(HookType.pre_save, on_save), Hook(HookType.pre_patch, on_patch)]


class StaffMemberForm(BaseModel):
    """Everything a manager sets about a staff member, in one form."""

    username: str = Field(title="Identifiant / Username", min_length=1, max_length=100)
    role: Literal["associate", "manager", "admin"] = Field(
        title="Rôle / Role",
        description="associate : vendeur en magasin ; manager : responsable ; admin : aussi "
                    "/admin. / associate: store staff; manager; admin: also /admin.")
    location: str | None = Field(
        default=None, title="Magasin de rattachement (code) / Home store (code)",
        description="Ex. ST-PARIS-01 ; obligatoire pour un vendeur. / Required for an "
                    "associate.")
    email: str = Field(default="", title="E-mail", max_length=254)
    active: bool = Field(default=True, title="Actif (peut se connecter) / Active")
    password: str | None = Field(
        default=None, title="Nouveau mot de passe / New password",
        description="8 caractères au moins ; vide : inchangé (obligatoire pour un nouveau "
                    "compte). / At least 8 characters; empty: unchanged (required for a new "
                    "account).")


async def save_staff_member(request: Request, data: StaffMemberForm) -> str:
    """Add the staff member, or change an existing one: account and profile together."""
    from comptoir.auth.service import create_staff, update_staff

    location = (data.location or "").strip() or None
    password = data.password or None
    try:
        if await BaseUser.exists().where(BaseUser.username == data.username):
            await update_staff(username=data.username, role=data.role, location=location,
                               email=data.email, active=data.active, password=password)
            done = Label(f"« {data.username} » est à jour.", f"'{data.username}' is updated.")
        else:
            if password is None:
                raise ValueError(Label("Un nouveau compte a besoin d'un mot de passe.",
                                       "A new account needs a password.").in_(_lang(request)))
            await create_staff(username=data.username, password=password, role=data.role,
                               location=location, email=data.email)
            done = Label(f"« {data.username} » est créé.", f"'{data.username}' is created.")
    except InvalidInput as exc:  # piccolo-admin shows a ValueError's text next to the form
        raise ValueError(exc.detail) from None
    return done.in_(_lang(request))


STAFF_FORM = FormConfig(
    name="Membre du personnel (staff member)",
    pydantic_model=StaffMemberForm,
    endpoint=save_staff_member,
    description="Ajouter un membre du personnel, ou changer son rôle, son magasin, son e-mail, "
                "son accès ou son mot de passe, en une fois. / Add a staff member, or change "
                "their role, store, e-mail, access or password, in one go.",
)


def _lang(request: Request) -> str:
    return language(request.headers.get("accept-language", ""))


# --- the retailer's words in what piccolo-admin sends -------------------------------------------

_SCHEMA = re.compile(r"/api/tables/(?P<table>[a-z_]+)/schema/$")
_GROUPED = re.compile(r"/api/tables/grouped/$")


def _labelled_schema(labels: TableLabels, schema: dict[str, Any], lang: str) -> dict[str, Any]:
    extra = schema.setdefault("extra", {})
    extra["help_text"] = f"{labels.name.in_(lang)} — {labels.help.in_(lang)}"
    for name, column in schema.get("properties", {}).items():
        if name in labels.columns:
            column["title"] = labels.columns[name].in_(lang)
        if name in labels.column_help:
            column.setdefault("extra", {})["help_text"] = labels.column_help[name].in_(lang)
    return schema


def _relabelled(path: str, body: bytes, lang: str) -> bytes | None:
    """The answer with our labels, or None when the path is not one we label."""
    if (match := _SCHEMA.search(path)) and match["table"] in TABLES:
        return json.dumps(_labelled_schema(TABLES[match["table"]], json.loads(body),
                                           lang)).encode()
    if _GROUPED.search(path):
        grouped = json.loads(body)
        grouped["grouped"] = {(GROUPS[g].in_(lang) if g in GROUPS else g): tables
                              for g, tables in grouped.get("grouped", {}).items()}
        return json.dumps(grouped).encode()
    return None


def with_retailer_words(app: App) -> App:
    """Wrap piccolo-admin: its table schemas and menu come back in the retailer's words."""

    async def labelled(scope: Message, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or not (
                _SCHEMA.search(path) or _GROUPED.search(path)):
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        lang = language(headers.get(b"accept-language", b"").decode("latin-1"))
        start: Message = {}
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if start.get("status") == 200:
                body = _relabelled(path, body, lang) or body
            start["headers"] = [(k, v) for k, v in start.get("headers", [])
                                if k.lower() != b"content-length"]
            start["headers"].append((b"content-length", str(len(body)).encode()))
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await app(scope, receive, buffered)

    return labelled


def build_admin(*, production: bool = False, allowed_hosts: list[str] | None = None) -> Any:
    by_code: list[OrderBy] = [OrderBy(Location.code)]
    return with_retailer_words(create_admin(
        tables=[
            TableConfig(Location, menu_group="Network", hooks=_country_hooks(Location),
                        visible_columns=[Location.code, Location.name, Location.kind,
                                         Location.city, Location.active],
                        order_by=by_code, link_column=Location.code),
            TableConfig(Carrier, menu_group="Network",
                        visible_columns=[Carrier.code, Carrier.name, Carrier.active]),
            TableConfig(RoutingPolicy, menu_group="Routing"),
            TableConfig(ChannelSafetyStock, menu_group="Routing"),
            TableConfig(SalesChannel, menu_group="Sales"),
            TableConfig(ShippingRate, menu_group="Sales"),
            TableConfig(FraudRule, menu_group="Sales", hooks=_fraud_rule_hooks(),
                        visible_columns=[FraudRule.channel, FraudRule.kind, FraudRule.points,
                                         FraudRule.active]),
            TableConfig(TaxRate, menu_group="Sales", hooks=_tax_rate_hooks()),
            TableConfig(Company, menu_group="Company", hooks=_country_hooks(Company)),
            TableConfig(AccountingAccount, menu_group="Company"),
            TableConfig(StaffProfile, menu_group="Staff",
                        visible_columns=[StaffProfile.user, StaffProfile.role,
                                         StaffProfile.location]),
            TableConfig(BaseUser, menu_group="Staff",
                        visible_columns=[BaseUser.username, BaseUser.email, BaseUser.active,
                                         BaseUser.admin, BaseUser.last_login]),
        ],
        forms=[STAFF_FORM],
        auth_table=BaseUser,
        session_table=SessionsBase,
        site_name="Comptoir — configuration",
        production=production,
        allowed_hosts=allowed_hosts or [],
    ))
