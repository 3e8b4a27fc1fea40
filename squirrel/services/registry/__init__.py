"""The PV registry: validation, all-or-nothing bulk creates (binary COPY), paging, search, export.

validation: what a PV must be; read: rows as DTOs, page tokens, filters; bulk: checked binary COPY inserts;
service: RegistryService, the operations the API calls."""

from squirrel.services.registry._bulk import insert_many
from squirrel.services.registry._read import like_pattern, parse_tag_filters, parse_token
from squirrel.services.registry._service import NOT_MONITORED_ENTRY, RegistryService
from squirrel.services.registry._validation import MAX_ADDRESS, address_keys, clean_address, clean_new

__all__ = [
    "MAX_ADDRESS",
    "NOT_MONITORED_ENTRY",
    "RegistryService",
    "address_keys",
    "clean_address",
    "clean_new",
    "insert_many",
    "like_pattern",
    "parse_tag_filters",
    "parse_token",
]
