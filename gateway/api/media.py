"""Media: images and video clips for posts, stored by the posts service (GridFS)."""
import base64

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from contracts.posts import Media
from contracts.rpc import InvalidInput
from gateway.auth import accepts, public, require
from gateway.rpc import call

blp = Blueprint("media", __name__, url_prefix="/api/v1/media", description="Media uploads")


def media_max_bytes():
    """Uploads get a larger limit than other bodies; the posts service checks type and size per kind."""
    return current_app.config["SETTINGS"].MEDIA_MAX_BYTES


@blp.route("", methods=["POST"])
@blp.response(201, Media)
@blp.alt_response(413, description="Larger than the upload limit")
@blp.doc(summary="Upload one image (JPEG/PNG/WebP, 5 MB) or MP4 video (50 MB) as multipart field `file`",
         requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
             "type": "object", "properties": {"file": {"type": "string", "format": "binary"}},
             "required": ["file"]}}}},
         security=[{"bearer": []}])
@require("media.upload")
@accepts("multipart/form-data")
def upload():
    request.max_content_length = media_max_bytes()
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("Cần gửi tệp trong trường 'file' / send the file as multipart field 'file'",
                           {"file": ["missing"]})
    data = upload.read()
    return call("posts", "store_media", g.officer, upload.filename or "upload", upload.mimetype,
                base64.b64encode(data).decode()), 201


@blp.route("/<media_id>")
@blp.doc(summary="Download a media file", responses={"200": {"description": "the file"}})
@public
def download(media_id):
    media = call("posts", "get_media", media_id)
    return Response(base64.b64decode(media["data"]), mimetype=media["content_type"],
                    headers={"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "private, max-age=300"})
