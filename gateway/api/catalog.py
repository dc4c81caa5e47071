"""The event catalog (AsyncAPI), for partner units binding their own queues."""
from flask import Response, request
from flask_smorest import Blueprint

from contracts.catalog import document_text
from gateway.auth import public

blp = Blueprint("catalog", __name__, url_prefix="/api/v1",
                description="Danh mục sự kiện / the event catalog (AsyncAPI)")


@blp.route("/asyncapi.json")
@blp.doc(summary="The AsyncAPI 2.6 document of every event: exchange, routing key, version and schema",
         description="Public. The same document as docs/asyncapi.json, generated from contracts/ at the "
                     "first request and kept for the life of the process.",
         responses={"200": {"description": "AsyncAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
@public
def asyncapi():
    response = Response(document_text(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    return response.make_conditional(request)
