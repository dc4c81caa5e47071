"""Audience preview: which active channels a post would reach."""
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from contracts.groups import Audience, AudienceSpec
from gateway.api.schemas import body
from gateway.auth import require
from gateway.rpc import call

blp = Blueprint("audiences", __name__, url_prefix="/api/v1/audiences", description="Audience resolution")


class PreviewQuery(Schema):
    class Meta:
        unknown = RAISE

    limit = fields.Integer(load_default=200, validate=validate.Range(0, 1000),
                           metadata={"description": "how many channels to list (the counts cover all)"})


@blp.route("/resolve", methods=["POST"])
@blp.arguments(AudienceSpec)
@blp.arguments(PreviewQuery, location="query")
@blp.response(200, Audience)
@blp.doc(security=[{"bearer": []}])
@require()
def resolve(_, query):
    return call("groups", "resolve_audience", body(), query["limit"])
