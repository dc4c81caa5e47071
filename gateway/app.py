"""The Flask app factory."""
import datetime
import http
import logging

from apispec import BasePlugin
from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from contracts.settings import load as load_settings
from gateway import auth, errors, limits, metrics, web
from gateway.rpc import RpcPool
from service_runtime import logs
from service_runtime.validation import nfc_strings

logger = logging.getLogger(__name__)

MAX_JSON_DEPTH = 32
# Flask config keys that are settings under another name (a caller may give either).
SETTING_OF_CONFIG_KEY = {"JWT_SECRET": "BINHYEN_JWT_SECRET", "MAX_CONTENT_LENGTH": "MAX_BODY_BYTES"}

# webargs drops unknown query parameters (EXCLUDE) whatever the schema says; let each schema's
# Meta.unknown decide (ours say RAISE), so `?status[$ne]=x` is a 422, not silently ignored.
Blueprint.ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION = {
    **Blueprint.ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}


class BadBody(Exception):
    pass


def _check_body(value):
    """Refuse MongoDB operator keys (`$ne`, `$where`...) and absurd nesting anywhere in a body."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadBody("nesting too deep")
        if isinstance(node, dict):
            for key, child in node.items():
                if isinstance(key, str) and key.startswith("$"):
                    raise BadBody(f"key {key!r} is not allowed")
                stack.append((child, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)


class ProblemApi(Api):
    """flask-smorest's Api, documenting errors as they are sent: application/problem+json with
    the `Problem` schema (flask-smorest's own would say application/json {code, status, message})."""
    ERROR_SCHEMA = errors.Problem

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, errors.PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, errors.PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class DocumentedErrors(BasePlugin):
    """Documents the errors every operation of a kind can answer, unless it documents them itself:
    401/403 where a token is required, 404 for a path naming a resource, 400/413 for a body,
    503 (with Retry-After) wherever a service is called. An error documented with a description
    only (`alt_response(409, description=...)`) gets its body: application/problem+json."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            for code, response in operation.get("responses", {}).items():
                if str(code)[:1] in ("4", "5") and isinstance(response, dict) and "content" not in response:
                    # "Problem": the name ProblemApi's error responses registered errors.Problem under
                    response["content"] = {errors.PROBLEM: {"schema": "Problem"}}
            statuses = []
            if operation.get("security"):
                statuses += [401, 403]
            if "{" in (path or ""):
                statuses.append(404)
            if "requestBody" in operation:
                statuses += [400, 413]
            if path not in ("/healthz", "/readyz"):
                statuses.append(503)
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}
            for status in statuses:
                if str(status) not in documented:
                    responses[str(status)] = http.HTTPStatus(status).name


def api_modules():
    """Every module in gateway/api that defines a blueprint `blp` (one module per resource)."""
    import importlib
    import pkgutil
    import gateway.api
    modules = [importlib.import_module(f"gateway.api.{info.name}")
               for info in sorted(pkgutil.iter_modules(gateway.api.__path__), key=lambda i: i.name)]
    return [module for module in modules if hasattr(module, "blp")]


class IsoJSONProvider(DefaultJSONProvider):
    """Times as ISO 8601 everywhere, also inside free-form dicts (Flask's default is RFC 1123)."""

    @staticmethod
    def default(o):
        if isinstance(o, (datetime.datetime, datetime.date)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(config=None):
    """The gateway, its settings read here once (contracts.settings; `config` keys first, then
    the environment): app.config["SETTINGS"] for the rest of the app, and the Flask keys below."""
    config = dict(config or {})
    settings = load_settings("gateway", overrides={SETTING_OF_CONFIG_KEY.get(key, key): value
                                                   for key, value in config.items()})
    app = Flask(__name__, static_folder="web/static", static_url_path="/static",
                template_folder="web/templates")
    app.json = IsoJSONProvider(app)
    app.config.update(
        API_TITLE="Bình Yên API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=settings.MAX_BODY_BYTES,
        AMQP_URI=settings.AMQP_URI,
        RPC_TIMEOUT_SECONDS=settings.RPC_TIMEOUT_SECONDS,
        RPC_POOL_SIZE=settings.RPC_POOL_SIZE,
        JWT_SECRET=settings.BINHYEN_JWT_SECRET,
        TOKEN_TTL_SECONDS=settings.TOKEN_TTL_SECONDS,
        CONSOLE_IDLE_SECONDS=settings.CONSOLE_IDLE_SECONDS,
        RATE_LIMIT_STORAGE_URI=settings.RATE_LIMIT_STORAGE_URI,
        SETTINGS=settings,
    )
    app.config.update(config)

    app.extensions["rpc"] = RpcPool(app.config["AMQP_URI"], size=app.config["RPC_POOL_SIZE"],
                                    timeout=app.config["RPC_TIMEOUT_SECONDS"])
    api = ProblemApi(app, spec_kwargs={"info": {"description": "Bình Yên: police community outreach over "
                                                               "social networks"},
                                       "extra_plugins": [DocumentedErrors()]})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                                    "bearerFormat": "JWT"})
    for module in api_modules():
        api.register_blueprint(module.blp)
    errors.register(app)  # after Api(): ours replace flask-smorest's JSON error bodies
    limits.register(app)
    metrics.register(app)
    web.register(app)

    @app.before_request
    def correlate_and_check():
        cid = request.headers.get("X-Request-ID", "")[:64] or logs.new_correlation_id()
        logs.set_correlation_id(cid)
        g.correlation_id = cid
        view = app.view_functions.get(request.endpoint)
        if (request.method != "OPTIONS" and request.blueprint != "console"  # the console signs in by cookie
                and getattr(view, "required_permission", None) is not None):
            auth.authorize(view.required_permission)  # 401/403 before anything in the request is read
        if request.path.startswith("/api/") and request.method in ("POST", "PUT", "PATCH") and view is not None:
            accepted = getattr(view, "accepted_types", ("application/json",))
            sent = request.mimetype
            has_body = bool(request.content_length) or bool(sent)
            if has_body and "*" not in accepted and not (
                    sent in accepted or ("application/json" in accepted and request.is_json)):
                return errors.problem(415, f"Chỉ nhận {', '.join(accepted)}; đã gửi {sent or 'không rõ kiểu'} / "
                                           f"send {' or '.join(accepted)} (Content-Type), not {sent or 'none'}")
        # is_json: application/json and any +json type (webargs and get_json read those too).
        if request.is_json and request.method in ("POST", "PUT", "PATCH"):
            try:
                body = request.get_json(silent=True)  # malformed JSON is left to the schema: 400
                _check_body(body)
            except BadBody as exc:
                return errors.problem(422, f"Dữ liệu bị từ chối / rejected body: {exc}")
            except RecursionError:
                return errors.problem(400, "Nội dung JSON lồng quá sâu / JSON nested too deep")
            if body is not None:
                # Vietnamese typed as NFD (macOS, some phones) becomes NFC before anyone reads it.
                request._cached_json = (nfc_strings(body), nfc_strings(body))

    @app.after_request
    def echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("correlation_id", "")
        # User text (titles, tips) is served as data, never as a page a browser could run.
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app
