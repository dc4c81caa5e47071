"""Groups service: the directory of units, officers, channels and subscriptions (nameko entrypoints).

Staff operations take the acting officer (`actor`, from the gateway's token) first and
check role and unit scope here, so every caller gets the same rules.
"""
import csv
import io
import json

from marshmallow import ValidationError

from contracts.permissions import may, require
from contracts.rpc import Forbidden, InvalidInput, NotFound, TooManyAttempts
from service_runtime.entrypoints import ServiceBase, rpc
from service_runtime.storage import StoreProvider, utcnow
from service_runtime.validation import load, nfc_strings
from services.groups import domain, schemas
from services.groups.store import CHANNEL_FIELDS, GroupsStore, channel_view, subscription_view, unit_view

MAX_IMPORT_ROWS = 5000
PREVIEW_CAP = 200


def items(docs, cursor, view):
    return {"items": [view(doc) for doc in docs], "next_cursor": cursor}


class GroupsService(ServiceBase):
    name = "groups"
    store = StoreProvider(GroupsStore)

    # --- reference data ----------------------------------------------------------------------
    @rpc
    def get_reference(self):
        """Wards, group kinds and tip categories (tips triage reads the wards from here)."""
        return self.store.reference()

    @rpc
    def list_all_units(self):
        units, _ = self.store.directory()
        return units

    # --- units -------------------------------------------------------------------------------
    @rpc
    def create_unit(self, actor, payload):
        require(actor, "units.manage")
        unit = load(schemas.UnitInput(), payload)
        units, _ = self.store.directory()
        if unit["parent_id"]:
            domain.check_move(unit["id"], unit["parent_id"], {u["id"]: u for u in units})
        self._check_ward(unit.get("ward"))
        return unit_view(self.store.create_unit(unit))

    @rpc
    def get_unit(self, unit_id):
        return unit_view(self.store.require_unit(unit_id))

    @rpc
    def list_units(self, query=None):
        q = load(schemas.Page(), query or {})
        docs, cursor = self.store.list_units(q["limit"], q["cursor"])
        return items(docs, cursor, unit_view)

    @rpc
    def update_unit(self, actor, unit_id, payload):
        require(actor, "units.manage")
        changes = load(schemas.UnitPatch(), payload)
        self.store.require_unit(unit_id)
        units, _ = self.store.directory()
        if "parent_id" in changes:
            domain.check_move(unit_id, changes["parent_id"], {u["id"]: u for u in units})
        if changes.get("active") is False:
            domain.check_deactivate(unit_id, units, self.store.active_channel_count(unit_id))
        if "ward" in changes:
            self._check_ward(changes["ward"])
        return unit_view(self.store.update_unit(unit_id, changes))

    def _check_ward(self, ward):
        if ward and ward not in {w["id"] for w in self.store.reference().get("wards", [])}:
            raise InvalidInput("Phường/xã không tồn tại / unknown ward", {"ward": ["unknown ward"]})

    # --- officers --------------------------------------------------------------------------
    @rpc
    def create_officer(self, actor, payload):
        require(actor, "officers.manage")
        officer = load(schemas.OfficerInput(), payload)
        if not officer["unit_id"] and "admin" not in officer["roles"]:
            # An officer without a unit would act for no unit at all (scope fails closed).
            raise InvalidInput("Cán bộ phải thuộc một đơn vị (trừ quản trị viên) / an officer needs a unit "
                               "(admins excepted)", {"unit_id": ["required"]})
        if officer["unit_id"] and self.store.get_unit(officer["unit_id"]) is None:
            raise InvalidInput("Đơn vị không tồn tại / unknown unit", {"unit_id": ["unknown unit"]})
        return domain.public_officer(self.store.create_officer(officer))

    @rpc
    def list_officers(self, actor, query=None):
        require(actor, "officers.manage")
        q = load(schemas.Page(), query or {})
        docs, cursor = self.store.list_officers(q["limit"], q["cursor"])
        return items(docs, cursor, domain.public_officer)

    @rpc
    def authenticate(self, username, password):
        """The officer for these credentials, or None. Password hashes never leave here."""
        doc = self.store.find_officer(username) if isinstance(username, str) else None
        now = utcnow()
        wait = domain.login_locked_for(doc, now)
        if wait:
            raise TooManyAttempts(f"Sai mật khẩu nhiều lần: tài khoản tạm khoá, thử lại sau {wait // 60 + 1} phút "
                                  f"hoặc nhờ quản trị viên / too many wrong passwords: try again in {wait} s or ask "
                                  "an administrator", {"retry_after": [wait]})
        ok = domain.verify_password(doc["password_hash"] if doc else None, str(password))
        if doc and not ok:
            self.store.record_login_failure(doc["_id"], now)
            return None
        if doc:
            self.store.clear_login_failures(doc)
        return domain.public_officer(doc) if ok and doc else None

    @rpc
    def scope_of(self, actor):
        """The unit ids an officer acts for (None: every unit). Other services use it for lists."""
        units, _ = self.store.directory()
        scope = domain.scope_of(actor, units)
        return None if scope is None else sorted(scope)

    @rpc
    def relay_officers(self, officer_ids=(), unit_ids=()):
        """Who does notify's relay and take-down tasks, by name (asked once per publication):
        {officers: {id: {id, username, full_name}}, by_unit: {unit id: [ids of its active unit
        operators]}} for the named officers and for the units whose unnamed tasks (OA groups)
        their operators take."""
        docs = self.store.relay_officers(list(officer_ids or ()), list(unit_ids or ()))
        officers = {d["_id"]: {"id": d["_id"], "username": d["username"], "full_name": d.get("full_name")}
                    for d in docs}
        by_unit = {}
        for doc in docs:
            if doc.get("unit_id") in unit_ids and doc.get("active") and "unit_operator" in doc.get("roles", ()):
                by_unit.setdefault(doc["unit_id"], []).append(doc["_id"])
        return {"officers": officers, "by_unit": by_unit}

    # --- channels ----------------------------------------------------------------------------
    @rpc
    def list_channels(self, actor, query=None):
        """Channels matching the filters; an officer who may not see every unit's channels
        (a ward's operator) sees their own units' only."""
        q = dict(query or {})
        paging = load(schemas.Page(), {k: q.pop(k) for k in ("limit", "cursor") if k in q})
        filters = load(schemas.ChannelFilter(), q)
        mongo = {key: filters[key] for key in ("kind", "ward", "unit_id", "status") if key in filters}
        if not may(actor, "channels.read_all"):
            units, _ = self.store.directory()
            scope = sorted(domain.scope_of(actor, units) or ())
            mongo["unit_id"] = {"$in": [u for u in scope if filters.get("unit_id") in (None, u)]}
        types = set(filters.get("types", [])) | ({filters["type"]} if "type" in filters else set())
        if types:
            mongo["type"] = {"$in": sorted(types)}
        docs, cursor = self.store.list_channels(mongo, paging["limit"], paging["cursor"])
        return items(docs, cursor, channel_view)

    @rpc
    def get_channel(self, channel_id):
        doc = self.store.get_channel(channel_id)
        if doc is None:
            raise NotFound("Không tìm thấy kênh / channel not found")
        return channel_view(doc)

    @rpc
    def create_channel(self, actor, payload):
        channel = load(schemas.ChannelInput(), payload)
        units, _ = self.store.directory()
        domain.require_manage(actor, channel["unit_id"], units)
        errors = self._channel_errors([channel])[0]
        if errors:
            raise InvalidInput("Kênh không hợp lệ / invalid channel", errors)
        return channel_view(self.store.create_channel(channel))

    @rpc
    def update_channel(self, actor, channel_id, payload):
        changes = load(schemas.ChannelPatch(), payload)
        current = self.get_channel(channel_id)
        units, _ = self.store.directory()
        domain.require_manage(actor, current["unit_id"], units)
        errors = self._channel_errors([dict(current, **changes)])[0]
        if errors:
            raise InvalidInput("Kênh không hợp lệ / invalid channel", errors)
        return channel_view(self.store.update_channel(channel_id, changes))

    @rpc
    def deactivate_channel(self, actor, channel_id):
        return self.update_channel(actor, channel_id, {"status": "inactive"})

    def _channel_errors(self, channels):
        units, _ = self.store.directory()
        reference = self.store.reference()
        wards = {w["id"] for w in reference.get("wards", [])}
        kinds = {k["id"] for k in reference.get("group_kinds", [])}
        officer_ids = {c.get("relay_officer_id") for c in channels if c.get("relay_officer_id")}
        officers = self.store.officers_by_id(officer_ids)
        units_by_id = {u["id"]: u for u in units}
        return [domain.channel_rules(c, units_by_id, wards, kinds, officers) for c in channels]

    @rpc
    def import_channels(self, actor, body, content_type="application/json", partial=False):
        """Bulk import from CSV or JSON: every row checked first, errors by line number.

        Nothing is imported if any row is bad, unless `partial`; re-importing the same file
        changes nothing (rows are matched on type + external id).
        """
        rows = parse_rows(body, content_type)
        if len(rows) > MAX_IMPORT_ROWS:
            raise InvalidInput(f"Tối đa {MAX_IMPORT_ROWS} dòng mỗi lần / at most {MAX_IMPORT_ROWS} rows",
                               {"_body": ["too many rows"]})
        units, _ = self.store.directory()
        good, bad, seen = [], [], {}
        loaded = []
        for line, row in rows:
            try:
                loaded.append((line, schemas.ChannelInput().load(nfc_strings(row))))
            except ValidationError as exc:
                bad.append({"line": line, "errors": exc.messages})
        rule_errors = self._channel_errors([channel for _, channel in loaded])
        for (line, channel), errors in zip(loaded, rule_errors):
            key = (channel["type"], channel["external_id"])
            if key in seen:
                errors = dict(errors, external_id=[f"trùng với dòng {seen[key]} / duplicate of line {seen[key]}"])
            seen.setdefault(key, line)
            if not errors:
                try:
                    domain.require_manage(actor, channel["unit_id"], units)
                except Forbidden as exc:
                    errors = {"unit_id": [exc.detail]}
            (bad.append({"line": line, "errors": errors}) if errors else good.append(channel))
        bad.sort(key=lambda item: item["line"])
        if bad and not partial:
            raise InvalidInput(f"{len(bad)} dòng không hợp lệ, chưa nhập dòng nào / {len(bad)} bad rows, "
                               "nothing imported", {"rows": bad})
        counts = self.store.save_channels(good) if good else {"created": 0, "updated": 0, "unchanged": 0}
        return {"rows": len(rows), "created": counts["created"], "updated": counts["updated"],
                "unchanged": counts["unchanged"], "rejected": len(bad), "errors": bad}

    # --- audiences ---------------------------------------------------------------------------------
    @rpc
    def resolve_audience(self, spec, limit=PREVIEW_CAP):
        """{count, by_type, channels (first `limit`, None for all), truncated}."""
        audience = load(schemas.AudienceSpec(), spec or {})
        units, channels = self.store.directory()
        result = domain.resolve_audience(audience, channels, units)
        chosen = result["channels"] if limit is None else result["channels"][:limit]
        return {"count": result["count"], "by_type": result["by_type"], "channels": chosen,
                "truncated": len(chosen) < result["count"]}

    # --- subscriptions -------------------------------------------------------------------------------
    @rpc
    def create_subscription(self, actor, payload):
        sub = load(schemas.SubscriptionInput(), payload)
        units, _ = self.store.directory()
        self.store.require_unit(sub["unit_id"])
        domain.require_manage(actor, sub["unit_id"], units, what="đăng ký / subscription",
                              permission="subscriptions.manage")
        target = self.store.get_channel(sub["target_channel_id"])
        if target is None or target["status"] != "active":
            raise InvalidInput("Kênh nhận không tồn tại / unknown target channel",
                               {"target_channel_id": ["unknown channel"]})
        if target["unit_id"] != sub["unit_id"]:
            raise InvalidInput("Kênh nhận phải thuộc đơn vị đăng ký / the target must be the unit's own channel",
                               {"target_channel_id": ["not this unit's channel"]})
        if target["type"] not in domain.SUBSCRIPTION_TARGET_TYPES:
            raise InvalidInput("Kênh nhận phải là webhook, email hoặc nhóm Zalo / target must be webhook, "
                               "email or a Zalo group", {"target_channel_id": ["wrong channel type"]})
        return subscription_view(self.store.create_subscription(sub))

    @rpc
    def list_subscriptions(self, query=None):
        q = dict(query or {})
        paging = load(schemas.Page(), {k: q.pop(k) for k in ("limit", "cursor") if k in q})
        mongo = {"unit_id": q["unit_id"]} if isinstance(q.get("unit_id"), str) else {}
        docs, cursor = self.store.list_subscriptions(mongo, paging["limit"], paging["cursor"])
        return items(docs, cursor, subscription_view)

    @rpc
    def delete_subscription(self, actor, subscription_id):
        sub = self.store.get_subscription(subscription_id)
        if sub is None:
            raise NotFound("Không tìm thấy đăng ký / subscription not found")
        units, _ = self.store.directory()
        domain.require_manage(actor, sub["unit_id"], units, what="đăng ký / subscription",
                              permission="subscriptions.manage")
        self.store.delete_subscription(sub)

    @rpc
    def recipients_for(self, event_type, data):
        """Who must receive this event: [{subscription_id, unit_id, channel}] (for notify)."""
        _, channels = self.store.directory()
        by_id = {c["id"]: c for c in channels}
        recipients = []
        for sub in self.store.active_subscriptions():
            channel = by_id.get(sub["target_channel_id"])
            if channel and channel["status"] == "active" and domain.subscription_matches(sub, event_type, data):
                recipients.append({"subscription_id": sub["_id"], "unit_id": sub["unit_id"], "channel": channel})
        return recipients

    # --- demo data ------------------------------------------------------------------------------------
    @rpc
    def load_demo_data(self, scale="city", demo_password=None, sandbox_url="http://127.0.0.1:8900"):
        """Ninh Bình units, demo officers and the channel set; loading twice changes nothing."""
        if scale not in domain.SCALES:
            raise InvalidInput("scale: city | province", {"scale": ["unknown scale"]})
        demo = domain.demo_directory(self.store.reference_file(), scale, sandbox_url)
        units_created = 0
        for unit in demo["units"]:  # parents come before children in the list
            if self.store.get_unit(unit["id"]) is None:
                self.store.create_unit(unit)
                units_created += 1
        officers_created = 0
        if demo_password:
            for officer in demo["officers"]:
                if self.store.find_officer(officer["username"]) is None:
                    self.store.create_officer(dict(officer, password=demo_password))
                    officers_created += 1
        counts = self.store.save_channels([load(schemas.ChannelInput(), c) for c in demo["channels"]])
        return {"units_created": units_created, "officers_created": officers_created,
                "channels_created": counts["created"], "channels_total": len(demo["channels"])}


def parse_rows(body, content_type):
    """[(line number, row dict)] from a CSV (header on line 1) or a JSON array (row n = element n)."""
    if not isinstance(body, str):
        raise InvalidInput("Nội dung rỗng / empty body", {"_body": ["expected text"]})
    if content_type.startswith("text/csv"):
        reader = csv.DictReader(io.StringIO(body))
        missing = {"name", "type", "unit_id", "external_id"} - set(reader.fieldnames or ())
        unknown = set(reader.fieldnames or ()) - set(CHANNEL_FIELDS)
        if missing or unknown:
            raise InvalidInput("Dòng tiêu đề CSV không đúng / bad CSV header",
                               {"_header": [f"missing: {sorted(missing)}" if missing else f"unknown: {sorted(unknown)}"]})
        rows = []
        for row in reader:
            clean = {k: v.strip() for k, v in row.items() if k is not None and v not in (None, "")}
            if "followers" in clean and clean["followers"].isdigit():
                clean["followers"] = int(clean["followers"])
            if None in row:
                clean["_extra"] = row[None]  # more cells than columns: the schema reports it
            rows.append((reader.line_num, clean))
        return rows
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidInput("JSON không đọc được / malformed JSON", {"_body": ["malformed JSON"]})
    if isinstance(data, dict) and isinstance(data.get("channels"), list):
        data = data["channels"]
    if not isinstance(data, list):
        raise InvalidInput("Cần một mảng các kênh / expected an array of channels", {"_body": ["not an array"]})
    return [(n, row if isinstance(row, dict) else {"_row": row}) for n, row in enumerate(data, start=1)]
