"""Helpers shared by the API resources: request bodies and list envelopes."""
from flask import request
from marshmallow import Schema, fields


def body():
    """The request's JSON as received (NFC-normalised); services validate it again themselves.
    None for a request with no body (an action such as /submit needs none); any other
    Content-Type was refused with 415 before the view ran."""
    if not request.content_length and not request.is_json:
        return None
    return request.get_json()


def list_of(item_schema, name):
    """A paginated list response: {items: [...], next_cursor}."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"}),
    })
