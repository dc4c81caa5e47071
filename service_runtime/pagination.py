"""Keyset pagination for every list: `limit` + an opaque `cursor` (no skip/offset scans)."""
import base64
import json

from pymongo import ASCENDING, DESCENDING

from contracts.rpc import InvalidInput


def encode_cursor(value):
    return base64.urlsafe_b64encode(json.dumps(value, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise InvalidInput("cursor không hợp lệ / bad cursor", {"cursor": ["invalid"]})


def page(collection, query, limit=50, cursor=None, newest_first=False, projection=None):
    """One page of documents ordered by _id; returns (docs, next_cursor or None).

    _id values must be JSON-representable strings (our ids are slugs or uuid hex).
    """
    direction = DESCENDING if newest_first else ASCENDING
    if cursor:
        after = decode_cursor(cursor)
        query = {"$and": [query, {"_id": {"$lt" if newest_first else "$gt": after}}]}
    found = collection.find(query, projection, sort=[("_id", direction)], limit=limit + 1)
    if not query:  # a whole collection in _id order: walk the _id index (SecantusDB would scan and sort)
        found = found.hint([("_id", ASCENDING)])
    docs = list(found)
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, (encode_cursor(docs[-1]["_id"]) if more and docs else None)
