"""Helpers shared by the API resources: request bodies and list envelopes."""
from flask import request
from marshmallow import Schema, fields


def body():
    """The request's JSON as received (NFC-normalised); services validate it again themselves."""
    return request.get_json()


def list_of(item_schema, name):
    """A paginated list response: {items: [...], next_cursor}."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"}),
    })
