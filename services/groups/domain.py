"""Groups: pure rules about units, officers, channels, audiences and subscriptions (no I/O)."""
import fnmatch
import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from contracts.groups import CHANNEL_TYPES, UNIT_KINDS  # noqa: F401
from contracts.permissions import Actor
from contracts.rpc import Forbidden, InvalidInput
from contracts.text import slugify  # noqa: F401  (unit and officer ids)

# Where a subscription may deliver: channels that can carry an event to a unit.
SUBSCRIPTION_TARGET_TYPES = ("webhook", "email", "zalo_oa_group", "zalo_group_manual")

_hasher = PasswordHasher()

# A real hash of an unguessable string: verifying against it costs the same time as a
# real check, so a login for an unknown username is not faster than a wrong password.
_DUMMY_HASH = _hasher.hash("binhyen-no-such-officer")


# --- officers --------------------------------------------------------------------------

def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """True when the password matches; constant work whether or not the officer exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# Password guessing: after this many wrong passwords in a row an account waits this long.
LOGIN_LOCK_AFTER = 5
LOGIN_LOCK_SECONDS = 15 * 60


def login_locked_for(doc, now):
    """Seconds this officer must still wait before a password is even checked (0: none)."""
    until = (doc or {}).get("login_locked_until")
    if until is None:
        return 0
    if until.tzinfo is None:
        until = until.replace(tzinfo=now.tzinfo)
    return max(0, int((until - now).total_seconds()) + 1) if until > now else 0


def public_officer(doc):
    """An officer as other services see them: never the password hash."""
    return {
        "id": doc["_id"],
        "username": doc["username"],
        "full_name": doc.get("full_name"),
        "roles": list(doc.get("roles", [])),
        "unit_id": doc.get("unit_id"),
    }


# --- the unit tree -----------------------------------------------------------------------

def children_index(units):
    """parent id -> [child ids] for a list of unit dicts ({"id", "parent_id", ...})."""
    index = {}
    for unit in units:
        index.setdefault(unit.get("parent_id"), []).append(unit["id"])
    return index


def subtree(unit_id, units):
    """The unit and all its descendants (an officer's scope)."""
    index = children_index(units)
    found, stack = set(), [unit_id]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(index.get(current, ()))
    return found


def check_move(unit_id, new_parent_id, units_by_id):
    """Refuse a parent that does not exist, is inactive, or lies under the unit (a cycle)."""
    if new_parent_id is None:
        return
    parent = units_by_id.get(new_parent_id)
    if parent is None:
        raise InvalidInput("Đơn vị cấp trên không tồn tại / unknown parent unit", {"parent_id": ["unknown unit"]})
    if not parent.get("active", True):
        raise InvalidInput("Đơn vị cấp trên đã ngừng hoạt động / parent unit is inactive",
                           {"parent_id": ["inactive unit"]})
    if new_parent_id in subtree(unit_id, list(units_by_id.values())):
        raise InvalidInput("Không thể chuyển đơn vị vào chính cấp dưới của nó / that would make a cycle",
                           {"parent_id": ["cycle"]})


def check_deactivate(unit_id, units, active_channel_count):
    """A unit with active sub-units or channels cannot be deactivated (no orphans)."""
    active_children = [u["id"] for u in units if u.get("parent_id") == unit_id and u.get("active", True)]
    if active_children:
        raise InvalidInput("Đơn vị còn đơn vị cấp dưới đang hoạt động / unit has active sub-units: "
                           + ", ".join(sorted(active_children)), {"active": ["has active sub-units"]})
    if active_channel_count:
        raise InvalidInput(f"Đơn vị còn {active_channel_count} kênh đang hoạt động / unit has active channels",
                           {"active": ["has active channels"]})


# --- scope --------------------------------------------------------------------------------

def scope_of(actor, units):
    """The unit ids an officer may act for: None means every unit (admin only). An officer
    with no unit acts for none: authorization fails closed."""
    actor = Actor.of(actor)
    if actor.is_admin:
        return None
    if not actor.get("unit_id"):
        return set()
    return subtree(actor["unit_id"], units)


def require_manage(actor, unit_id, units, what="kênh / channel", permission="channels.manage"):
    """Admin manages everything; a unit_operator only their own subtree; others read only."""
    actor = Actor.of(actor).require(permission)
    scope = scope_of(actor, units)
    if scope is not None and unit_id not in scope:
        raise Forbidden(f"Chỉ quản lý được {what.split(' / ')[0]} của đơn vị mình / "
                        f"you manage only your own unit's {what.split(' / ')[-1]}s", {"unit_id": ["out of scope"]})


# --- channels ------------------------------------------------------------------------------

def channel_id(channel_type, external_id):
    """A stable id from type + external id, so re-importing a file finds the same channel."""
    digest = hashlib.sha1(f"{channel_type}\n{external_id}".encode()).hexdigest()[:12]
    return f"{channel_type.replace('_', '-')}-{digest}"


def channel_rules(channel, units_by_id, wards, kinds, officers_by_id):
    """Per-field problems of a channel against the directory; {} when it is fine."""
    errors = {}
    unit = units_by_id.get(channel.get("unit_id"))
    if unit is None or not unit.get("active", True):
        errors["unit_id"] = ["đơn vị không tồn tại / unknown unit"]
    if channel.get("ward") and channel["ward"] not in wards:
        errors["ward"] = ["phường/xã không tồn tại / unknown ward"]
    if channel.get("kind") and channel["kind"] not in kinds:
        errors["kind"] = ["loại nhóm không tồn tại / unknown group kind"]
    manual = channel.get("type") == "zalo_group_manual"
    if manual != (channel.get("delivery") == "manual_relay"):
        errors["delivery"] = ["nhóm Zalo thường dùng chuyển tiếp thủ công, các kênh khác dùng API / "
                              "zalo_group_manual goes with manual_relay, every other type with api"]
    if channel.get("delivery") == "manual_relay":
        officer = officers_by_id.get(channel.get("relay_officer_id"))
        if officer is None:
            errors["relay_officer_id"] = ["cần cán bộ phụ trách chuyển tiếp / a known relay officer is required"]
    if channel.get("delivery") == "api" and channel.get("type") != "email" and not channel.get("credentials_ref"):
        errors["credentials_ref"] = ["cần tên biến môi trường chứa mã truy cập / name the token's variable"]
    return errors


# --- audiences -------------------------------------------------------------------------------

def resolve_audience(spec, channels, units):
    """Every active channel matching all given filters, plus the listed, minus the excluded.

    `channels` is the directory (dicts with id, type, unit_id, kind, ward, status); the
    result keeps the directory's order and counts per type.
    """
    unit_filter = None
    if spec.get("units"):
        unit_filter = set()
        for unit_id in spec["units"]:
            unit_filter |= subtree(unit_id, units) if spec.get("include_descendants", True) else {unit_id}
    types = set(spec.get("channel_types") or ()) or None
    kinds = set(spec.get("kinds") or ()) or None
    wards = set(spec.get("wards") or ()) or None
    listed = set(spec.get("channels") or ())
    excluded = set(spec.get("exclude_channels") or ())
    filtered = bool(unit_filter or types or kinds or wards)

    chosen = []
    for channel in channels:
        if channel.get("status") != "active" or channel["id"] in excluded:
            continue
        matches = filtered and (
            (unit_filter is None or channel["unit_id"] in unit_filter)
            and (types is None or channel["type"] in types)
            and (kinds is None or channel.get("kind") in kinds)
            and (wards is None or channel.get("ward") in wards))
        if matches or channel["id"] in listed:
            chosen.append(channel)
    by_type = {}
    for channel in chosen:
        by_type[channel["type"]] = by_type.get(channel["type"], 0) + 1
    return {"count": len(chosen), "by_type": by_type, "channels": chosen}


# --- subscriptions ------------------------------------------------------------------------------

def subscription_matches(subscription, event_type, data):
    """Does this unit's subscription want this event? Filters compare with the event's data."""
    if not subscription.get("active", True):
        return False
    if not fnmatch.fnmatchcase(event_type, subscription["event_pattern"]):
        return False
    for field, wanted in (subscription.get("filters") or {}).items():
        if wanted not in (None, "") and data.get(field) != wanted:
            return False
    return True


# --- demo data ---------------------------------------------------------------------------------

ZALO_KINDS = ("school_safety", "hospital_safety", "residential", "boarding_house", "urban_order",
              "karaoke", "lodging", "partner_coordination", "internal")
# Published figures: one fanpage, one YouTube channel and 305 Zalo groups in the city;
# the province-wide roll-out: 88 fanpages and 1,283 Zalo groups.
SCALES = {"city": {"fanpages": 1, "zalo_groups": 305}, "province": {"fanpages": 88, "zalo_groups": 1283}}
# About four in five Zalo groups are OA-managed (reachable by API); every fifth is an
# ordinary group an officer relays to by hand.
MANUAL_EVERY = 5


def demo_directory(reference, scale="city", sandbox_url="http://127.0.0.1:8900"):
    """The deterministic demo directory: units, partner units, officers and channels.

    Same input, same output: loading it twice changes nothing.
    """
    figures = SCALES[scale]
    units = [{"id": u["id"], "name": u["name"], "kind": u["kind"], "parent_id": u.get("parent"),
              "ward": u.get("ward"), "handles": u.get("handles", [])} for u in reference["units"]]
    root = units[0]["id"]
    for name in reference["partner_units"]:
        units.append({"id": f"dt-{slugify(name)}"[:64].rstrip("-"), "name": name, "kind": "partner",
                      "parent_id": root, "ward": None, "handles": []})
    ward_units = [u for u in units if u["kind"] == "ward_police"]
    officers = [{"username": f"canbo.{u['ward']}", "full_name": f"Cán bộ {u['name']}",
                 "roles": ["unit_operator"], "unit_id": u["id"]} for u in ward_units]
    officers += [
        {"username": "kiemduyet1", "full_name": "Thành viên Ban kiểm duyệt 1", "roles": ["moderator"], "unit_id": root},
        {"username": "kiemduyet2", "full_name": "Thành viên Ban kiểm duyệt 2", "roles": ["moderator"], "unit_id": root},
        {"username": "bientap", "full_name": "Biên tập viên Đội Tham mưu", "roles": ["editor"], "unit_id": "doi-tham-muu"},
        {"username": "tiepnhan", "full_name": "Cán bộ tiếp nhận tin báo", "roles": ["triage_officer"], "unit_id": root},
        {"username": "thanhtra", "full_name": "Cán bộ thanh tra", "roles": ["auditor"], "unit_id": root},
    ]

    channels = []
    for n in range(figures["fanpages"]):
        page = f"{100000000000000 + n}"
        channels.append({"name": "Công an thành phố Ninh Bình" if n == 0 else f"Fanpage Công an số {n + 1}",
                         "type": "facebook_page", "unit_id": root, "kind": "public_page", "ward": None,
                         "external_id": page, "delivery": "api", "followers": 22000 if n == 0 else 5000,
                         "credentials_ref": "FACEBOOK_PAGE_TOKEN"})
    channels.append({"name": "Kênh YouTube Công an thành phố Ninh Bình", "type": "youtube_channel",
                     "unit_id": root, "kind": "public_page", "ward": None, "external_id": "UCninhbinhcatp",
                     "delivery": "api", "followers": 3000, "credentials_ref": "YOUTUBE_TOKEN"})
    for n in range(figures["zalo_groups"]):
        unit = ward_units[n % len(ward_units)]
        kind = ZALO_KINDS[(n // len(ward_units)) % len(ZALO_KINDS)]
        kind_name = next(k["name"] for k in reference["group_kinds"] if k["id"] == kind)
        manual = n % MANUAL_EVERY == MANUAL_EVERY - 1
        channel = {"name": f"{kind_name} – {unit['name'].replace('Công an ', '')} #{n // len(ward_units) + 1}",
                   "type": "zalo_group_manual" if manual else "zalo_oa_group", "unit_id": unit["id"],
                   "kind": kind, "ward": unit["ward"], "external_id": f"zg{1000000 + n}",
                   "delivery": "manual_relay" if manual else "api", "followers": 40 + (n * 37) % 260}
        if manual:
            channel["relay_officer_id"] = slugify(f"canbo.{unit['ward']}")
        else:
            channel["credentials_ref"] = "ZALO_OA_TOKEN"
        channels.append(channel)
    for unit in units:
        if unit["kind"] == "partner":
            channels.append({"name": f"Hệ thống {unit['name']}", "type": "webhook", "unit_id": unit["id"],
                             "kind": "partner_coordination", "ward": None,
                             "external_id": f"{sandbox_url}/webhooks/{unit['id']}", "delivery": "api",
                             "followers": 0, "credentials_ref": "PARTNER_WEBHOOK_SECRET"})
    return {"units": units, "officers": officers, "channels": channels}
