"""The OpenAPI document (``/schema``): money as decimal strings, bearer keys."""

from __future__ import annotations

from typing import Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, Schema, SecurityScheme
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from clearance import __version__
from clearance import messages as m

__all__ = ["DecimalStringSchema", "openapi_config"]


class DecimalStringSchema(OpenAPISchemaPlugin):
    """OpenAPI for ``Money``/``Kilograms``: a string holding a decimal, never a JSON number."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        """Our string-only decimal types."""
        return isinstance(value, type) and issubclass(value, m._DecimalString)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        """The same schema the JSON Schemas in ``contracts/`` use."""
        described = m.schema_hook(field_definition.annotation)
        return Schema(
            type=described["type"],
            pattern=described["pattern"],
            description=described["description"],
            examples=described["examples"],
        )


def openapi_config() -> OpenAPIConfig:
    """The document's title, version and security scheme (``Authorization: Bearer ck_...``)."""
    return OpenAPIConfig(
        title="parcel-clearance",
        version=__version__,
        path="/schema",
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(
                    type="http", scheme="bearer", description="ck_<id>_<secret>"
                )
            }
        ),
        security=[{"apiKey": []}],
    )
