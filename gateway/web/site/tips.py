"""Sending a tip (/gui-tin-bao) and following it up (/tra-cuu), without JavaScript.

A web tip takes the JSON API's path: the tips service's own schema and rules, a code and a
secret drawn here, the durable intake queue (gateway/intake.py). A photo is re-encoded
without its metadata (contracts/photos.py) and stored by the tips service before the tip
is queued. The secret never goes into a URL: after a POST the code and secret ride in a
short-lived cookie, encrypted and signed (HttpOnly, SameSite=Strict), which the receipt and the
status pages read and "Thoát" deletes. Sending and reading a status spend separate rate-limit
allowances (gateway/limits.py).
"""
import base64
import hashlib
import hmac
import json
import re
import time

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, g, make_response, redirect, render_template, request, url_for
from marshmallow import ValidationError

from contracts.tips import ACCESS_DENIED, ATTACHMENT_MAX_BYTES, PublicTip, TipAccessDenied
from contracts.rpc import Conflict, InvalidInput
from gateway.api.public_tips import publisher
from gateway.auth import public
from gateway.intake import queue_tip
from gateway.limits import READ, SEND, RateLimited, check
from gateway.rpc import ServiceUnavailable, call
from gateway.web.site import bp, first_half
from service_runtime.storage import utcnow
from contracts.text import normalise
from contracts import tip_intake as intake_rules
from contracts.photos import EXTENSIONS, PhotoRefused, clean_photo

COOKIE = "binhyen_tip"
COOKIE_SECONDS = 15 * 60
HONEYPOT = "homepage"
WARDS_TTL_SECONDS = 300
STORED_WAIT_SECONDS = 3   # the receipt page waits this long for the queued tip to be stored
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,200}$")

# What each status means to the citizen, in plain words.
STATUS_WORDS = {
    "received": "Tin của bạn đã vào hệ thống và đang được phân loại.",
    "triaged": "Tin đã được phân loại và sắp được chuyển tới đơn vị công an phụ trách.",
    "assigned": "Tin đã được chuyển tới đơn vị công an phụ trách. Cán bộ sẽ đọc và xác minh.",
    "in_progress": "Cán bộ đang xác minh, xử lý tin của bạn.",
    "resolved": "Công an đã xử lý xong tin báo này. Cảm ơn bạn đã báo tin.",
    "closed": "Tin báo đã đóng, không nhận thêm thông tin. Nếu có việc mới, hãy gửi một tin báo mới.",
}
# Form fields -> the schema's fields, for showing errors beside the right box.
FIELD_OF = {"text": "text", "ward": "ward", "contact": "contact", "contact.phone": "phone",
            "contact.email": "email", "contact.name": "name", "attachments": "photo"}


# --- the tipster's cookie ----------------------------------------------------------------------

def _fernet():
    key = hmac.new(current_app.config["JWT_SECRET"].encode(), b"binhyen citizen tip cookie", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def remember_tip(response, code, secret):
    token = _fernet().encrypt(json.dumps({"code": code, "secret": secret}).encode()).decode()
    response.set_cookie(COOKIE, token, max_age=COOKIE_SECONDS, httponly=True, samesite="Strict",
                        secure=request.is_secure, path="/")
    return response


def remembered_tip():
    """(code, secret) of the tip this browser just sent or looked up, or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        data = json.loads(_fernet().decrypt(token.encode(), ttl=COOKIE_SECONDS))
        return data["code"], data["secret"]
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None


def forget_tip(response):
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict", secure=request.is_secure)
    return response


@bp.before_request
def private_pages():
    if request.endpoint and request.endpoint.startswith("site.tip"):
        g.private_page = True  # tip codes and answers: never cached on the way


# --- sending -------------------------------------------------------------------------------------

def wards():
    """[(id, "phường Đông Thành")] from groups' reference data, kept a few minutes. Without groups
    the form still works, without the picker."""
    cached = current_app.extensions.get("site_wards")
    if cached and time.monotonic() - cached[0] < WARDS_TTL_SECONDS:
        return cached[1]
    try:
        listed = call("groups", "get_reference").get("wards", [])
    except ServiceUnavailable:
        return cached[1] if cached else []
    choices = [(w["id"], f"{w.get('type', '')} {w['name']}".strip()) for w in listed]
    current_app.extensions["site_wards"] = (time.monotonic(), choices)
    return choices


def field_errors(messages, prefix=""):
    """marshmallow's nested messages -> {form field: Vietnamese message}."""
    found = {}
    for key, value in (messages or {}).items():
        name = f"{prefix}{key}" if key != "_schema" else prefix.rstrip(".")
        if isinstance(value, dict):
            found.update(field_errors(value, f"{name}."))
        else:
            text = value[0] if isinstance(value, list) and value else value
            found.setdefault(FIELD_OF.get(name, FIELD_OF.get(name.split(".")[0], "form")), first_half(str(text)))
    return found


def tip_form(status=200, errors=None, notice=None):
    form = request.form if request.method == "POST" else {}
    return render_template("site/tip_form.html", wards=wards(), form=form, errors=errors or {},
                           notice=notice, honeypot=HONEYPOT), status


def payload_from_form(form, ward_names):
    payload = {"text": normalise(form.get("text", "")), "anonymous": form.get("anonymous", "yes") != "no"}
    if form.get("ward") in ward_names:
        payload["ward"] = ward_names[form["ward"]]
    if not payload["anonymous"]:
        contact = {key: normalise(form.get(key, "")).strip() or None for key in ("name", "phone", "email")}
        payload["contact"] = {k: v for k, v in contact.items() if v}
    return payload


def stored_photo(upload):
    """The attachment entry of the form's photo, stored without metadata; None without one."""
    data = upload.read(ATTACHMENT_MAX_BYTES + 1) if upload and upload.filename else b""
    if not data:
        return None
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise PhotoRefused("Ảnh quá lớn (tối đa 10 MB).")
    cleaned, content_type = clean_photo(data)
    stored = call("tips", "store_attachment", content_type, base64.b64encode(cleaned).decode())
    return {"upload_id": stored["upload_id"], "content_type": content_type, "size": stored["size"],
            "filename": f"anh.{EXTENSIONS[content_type]}"}  # the phone's file name can say who took it


@bp.route("/gui-tin-bao", methods=["GET", "POST"])
@public
def tip_send():
    if request.method == "GET":
        return tip_form()
    check(SEND)
    request.max_content_length = ATTACHMENT_MAX_BYTES + 256 * 1024  # a phone photo, before the form is read
    form = request.form
    if form.get(HONEYPOT):  # a box people never see: only robots fill it
        return tip_form(400, notice="Không gửi được. Hãy để trống ô cuối cùng của biểu mẫu rồi gửi lại.")
    ward_names = dict(wards())
    payload = payload_from_form(form, ward_names)
    try:
        data = PublicTip().load(payload)
        intake_rules.prepare_intake(dict(data, channel="web"), utcnow())  # the text is sound before a photo is stored
        photo = stored_photo(request.files.get("photo"))
        if photo:
            payload["attachments"] = data["attachments"] = [photo]
        receipt = queue_tip(data, payload, publisher())
    except ValidationError as exc:
        return tip_form(422, errors=field_errors(exc.messages))
    except PhotoRefused as exc:
        return tip_form(422, errors={"photo": first_half(str(exc))})
    except InvalidInput as exc:
        return tip_form(422, errors=field_errors(exc.errors) or {"form": first_half(exc.detail)})
    except ServiceUnavailable as exc:  # nothing was queued: the citizen's text stays in the form
        response, status = tip_form(503, notice="Hệ thống đang bận, tin của bạn CHƯA được gửi. Nội dung vẫn còn "
                                                "trong ô bên dưới: hãy thử gửi lại sau ít giây.")
        response = make_response(response, status)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return remember_tip(redirect(url_for("site.tip_sent"), 303), receipt["tip_code"], receipt["secret"])


def status_when_stored(code, secret):
    """The tip's public status, waiting a moment for a tip still in the intake queue; None if not yet."""
    deadline = time.monotonic() + STORED_WAIT_SECONDS
    while True:
        try:
            return call("tips", "public_status", code, secret)
        except TipAccessDenied:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.25)


@bp.route("/gui-tin-bao/da-gui")
@public
def tip_sent():
    remembered = remembered_tip()
    if remembered is None:
        return render_template("site/receipt.html", code=None), 200
    code, secret = remembered
    try:
        check(READ)
        status = status_when_stored(code, secret)
    except (RateLimited, ServiceUnavailable):
        status = None  # the code and secret are shown whatever happens; the FAQ answers wait for /tra-cuu
    return render_template("site/receipt.html", code=code, secret=secret, status=status)


@bp.route("/gui-tin-bao/luu-ma", methods=["POST"])
@public
def tip_save_code():
    """The code and secret as a small text file to keep (what the receipt page shows)."""
    code, secret = request.form.get("code", ""), request.form.get("secret", "")
    if not intake_rules.parse_tip_code(code) or not SECRET_RE.match(secret):
        return render_template("site/error.html", status=400, message="Không có mã để lưu."), 400
    text = render_template("site/tip_code.txt", code=intake_rules.parse_tip_code(code), secret=secret,
                           lookup_url=url_for("site.tip_lookup", _external=True))
    response = make_response(text.replace("\n", "\r\n"))
    response.mimetype = "text/plain"
    response.headers["Content-Disposition"] = f'attachment; filename="tin-bao-{intake_rules.parse_tip_code(code)}.txt"'
    return response


# --- following up ---------------------------------------------------------------------------------

@bp.route("/tra-cuu", methods=["GET", "POST"])
@public
def tip_lookup():
    if request.method == "GET":
        if remembered_tip() is not None:
            return redirect(url_for("site.tip_status"), 303)
        return render_template("site/lookup.html", error=None, code="")
    check(READ)
    code, secret = request.form.get("code", "").strip(), request.form.get("secret", "").strip()
    try:
        call("tips", "public_status", code, secret)
    except TipAccessDenied:
        # One answer for a wrong code and a wrong secret (and a tip not stored yet).
        return render_template("site/lookup.html", error=first_half(ACCESS_DENIED), code=code), 401
    return remember_tip(redirect(url_for("site.tip_status"), 303), code, secret)


@bp.route("/tra-cuu/tin-bao")
@public
def tip_status():
    remembered = remembered_tip()
    if remembered is None:
        return redirect(url_for("site.tip_lookup"), 303)
    check(READ)
    try:
        status = call("tips", "public_status", *remembered)
    except TipAccessDenied:
        return forget_tip(redirect(url_for("site.tip_lookup"), 303))
    return render_template("site/status.html", status=status, words=STATUS_WORDS,
                           added=request.args.get("da-gui") == "1", error=None)


@bp.route("/tra-cuu/them", methods=["POST"])
@public
def tip_add():
    remembered = remembered_tip()
    if remembered is None:
        return redirect(url_for("site.tip_lookup"), 303)
    check(SEND)
    text = normalise(request.form.get("text", ""))
    try:
        call("tips", "public_message", *remembered, {"text": text})
    except (InvalidInput, Conflict) as exc:
        status = call("tips", "public_status", *remembered)
        error = first_half(exc.detail)
        return render_template("site/status.html", status=status, words=STATUS_WORDS, added=False, error=error,
                               text=text), exc.status
    return redirect(url_for("site.tip_status", **{"da-gui": "1"}) + "#them", 303)


@bp.route("/tra-cuu/thoat", methods=["POST"])
@public
def tip_forget():
    return forget_tip(redirect(url_for("site.tip_lookup"), 303))
