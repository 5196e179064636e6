"""Request bodies decoded strictly: a JSON value must already have the type the schema says."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from litestar.dto import AbstractDTO
from litestar.exceptions import SerializationException, ValidationException

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.dto.data_structures import DTOFieldDefinition
    from litestar.openapi.spec import Reference, Schema
    from litestar.typing import FieldDefinition

__all__ = ["StrictBody"]


class StrictBody(AbstractDTO[Any]):
    """The app's data DTO: decodes ``data`` from the raw bytes with msgspec in strict mode.

    Litestar converts bodies leniently, so ``"quantity": "2"`` or ``"unit_price": "1999"``
    would pass as numbers. An integration sending strings where the contract says numbers
    has a bug we want it to see at once, not orders that happen to work. Only bodies go
    through here: query, path and header values are text by nature and keep their
    conversion. The OpenAPI document is the one the handler's annotation gives.
    """

    _targets: ClassVar[dict[str, Any]] = {}  # handler id -> the handler's ``data`` annotation

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None,
    ) -> None:
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


def _refusal(exc: msgspec.ValidationError, path: str) -> ValidationException:
    """The same shape as Litestar's own validation errors: message, key, source."""
    message, _, where = str(exc).partition(" - at `$")
    key = where.rstrip("`").lstrip(".") or "data"
    return ValidationException(
        detail=f"Validation failed for {path}",
        extra=[{"message": message, "key": key, "source": "body"}],
    )
