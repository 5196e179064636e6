"""Request bodies decoded strictly: a JSON value must already have the type the schema says,
and a body may hold only the fields the schema names, each string of a bounded length."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import msgspec
import msgspec.inspect as shape
from litestar.dto import AbstractDTO
from litestar.exceptions import SerializationException, ValidationException

from comptoir.errors import DomainError

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.dto.data_structures import DTOFieldDefinition
    from litestar.openapi.spec import Reference, Schema
    from litestar.typing import FieldDefinition

__all__ = ["LongText", "StrictBody", "Text"]

# Ceilings for strings in bodies that have no tighter bound of their own, enforced while
# decoding. They sit above each field's own rule (a reason is 200 characters, a description
# 20,000; the domain refuses those with its own code): they only keep text that no field could
# hold from being decoded at all. Orders, routing and fulfillment declare tighter bounds.
Text = Annotated[str, msgspec.Meta(max_length=2_000)]
LongText = Annotated[str, msgspec.Meta(max_length=40_000)]  # a product's description


class StrictBody(AbstractDTO[Any]):
    """The app's data DTO: decodes ``data`` from the raw bytes with msgspec in strict mode.

    Litestar converts bodies leniently, so ``"quantity": "2"`` or ``"unit_price": "1999"``
    would pass as numbers. An integration sending strings where the contract says numbers
    has a bug we want it to see at once, not orders that happen to work. Only bodies go
    through here: query, path and header values are text by nature and keep their
    conversion. The OpenAPI document is the one the handler's annotation gives.

    Every body type is checked when the app is built: each of its Structs forbids unknown
    fields (a misspelt ``zip`` must not be dropped silently, nor ``{"x": [[[…]]]}`` skipped
    at any depth), and each of its strings declares a ``max_length``, so decoding itself
    bounds what a client can make the server hold.
    """

    _targets: ClassVar[dict[str, Any]] = {}  # handler id -> the handler's ``data`` annotation

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None,
    ) -> None:
        _check_body_type(field_definition.annotation)
        cls._targets[handler_id] = field_definition.annotation

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator,
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(field_definition)

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()  # no transfer model: the handler's own type is decoded directly

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    def decode_bytes(self, value: bytes) -> Any:
        handler = self.asgi_connection.route_handler
        try:
            return msgspec.json.decode(value, type=self._targets[handler.handler_id],
                                       strict=True, dec_hook=handler.default_deserializer)
        except msgspec.ValidationError as exc:
            raise _refusal(exc, self.asgi_connection.url.path) from exc
        except msgspec.DecodeError as exc:  # not JSON at all: "malformed_json"
            raise SerializationException(str(exc)) from exc

    def decode_builtins(self, value: Any) -> Any:
        handler = self.asgi_connection.route_handler
        try:
            return msgspec.convert(value, type=self._targets[handler.handler_id], strict=True,
                                   dec_hook=handler.default_deserializer, str_keys=True)
        except msgspec.ValidationError as exc:
            raise _refusal(exc, self.asgi_connection.url.path) from exc


def _refusal(exc: msgspec.ValidationError, path: str) -> ValidationException | DomainError:
    """An unknown field by its path (``delivery.address.zip``); anything else in the shape of
    Litestar's own validation errors: message, key, source."""
    message, _, where = str(exc).partition(" - at `$")
    key = where.rstrip("`").lstrip(".") or "data"
    unknown = _UNKNOWN_FIELD.fullmatch(message)
    if unknown:
        field = ".".join(part for part in (where.rstrip("`").lstrip("."), unknown[1]) if part)
        return DomainError(f"The body has a field the API does not know: '{field}'. Remove it "
                           "or check its spelling against the API's schema.",
                           code="unknown_field", field=field)
    return ValidationException(
        detail=f"Validation failed for {path}",
        extra=[{"message": message, "key": key, "source": "body"}],
    )


_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(.*)`")


def _check_body_type(annotation: Any) -> None:
    """Refuse to build an app whose body type accepts unknown fields, unbounded strings or
    any JSON at all (which a decoder would follow however deep it goes)."""
    lax: list[str] = []
    seen: set[type] = set()

    def walk(node: shape.Type, where: str) -> None:
        if isinstance(node, shape.StructType):
            if node.cls in seen:
                return
            seen.add(node.cls)
            if not node.forbid_unknown_fields:
                lax.append(f"{node.cls.__name__} needs forbid_unknown_fields=True")
            for field in node.fields:
                walk(field.type, f"{node.cls.__name__}.{field.name}")
        elif isinstance(node, shape.StrType) and node.max_length is None:
            lax.append(f"{where} needs a max_length")
        elif isinstance(node, shape.AnyType):
            lax.append(f"{where} needs a type, not Any")
        elif isinstance(node, shape.UnionType | shape.TupleType):
            for item in node.types if isinstance(node, shape.UnionType) else node.item_types:
                walk(item, where)
        elif isinstance(node, shape.ListType | shape.SetType | shape.FrozenSetType
                        | shape.VarTupleType):
            walk(node.item_type, where)
        elif isinstance(node, shape.DictType):
            walk(node.key_type, f"{where} (keys)")
            walk(node.value_type, where)
        elif isinstance(node, shape.Metadata):
            walk(node.type, where)

    walk(shape.type_info(annotation), "the body")
    if lax:
        raise TypeError("request body types must be strict: " + "; ".join(lax))
