"""Who may do what: the one permission table the gateway, the console and every service check.

An actor is the officer a request acts for. It crosses RPC as a plain dict
`{id, username, roles, unit_id, full_name?}`; `Actor` is that dict with the questions asked of
it. Roles name jobs; permissions name what a job may do. `admin` may do everything. Unit scope
(which units' channels, tips, tasks) is checked where the data is, by the service that owns it:
an officer with no unit is in scope for nothing unless admin (`Actor.scope_root`).
"""
from contracts.rpc import Forbidden

# admin: everything; moderator: the admin board; editor: writes posts; triage_officer: handles
# tips; unit_operator: runs a unit's channels and tips; auditor: reads everything, changes nothing.
ROLES = ("admin", "moderator", "editor", "triage_officer", "unit_operator", "auditor")
ROLE_LABELS = {
    "admin": ("Quản trị viên", "Administrator"),
    "moderator": ("Ban kiểm duyệt", "Admin board (moderator)"),
    "editor": ("Biên tập viên", "Editor"),
    "triage_officer": ("Cán bộ tiếp nhận tin báo", "Triage officer"),
    "unit_operator": ("Cán bộ vận hành đơn vị", "Unit operator"),
    "auditor": ("Thanh tra", "Auditor"),
}
EVERY_ROLE = ROLES

# permission -> (roles that hold it besides admin, what it allows: Vietnamese, English)
PERMISSIONS = {
    # anyone signed in
    "staff": (EVERY_ROLE, "đăng nhập hệ thống", "use the staff API"),
    # directory (groups)
    "units.manage": ((), "quản lý đơn vị", "manage units"),
    "officers.manage": ((), "quản lý cán bộ", "manage officers"),
    "channels.read_all": (("moderator", "editor", "auditor"), "xem kênh của mọi đơn vị",
                          "see every unit's channels (others see their own units')"),
    "channels.manage": (("unit_operator",), "quản lý kênh của đơn vị mình", "manage your unit's channels"),
    "subscriptions.manage": (("unit_operator",), "quản lý đăng ký sự kiện của đơn vị mình",
                             "manage your unit's subscriptions"),
    # posts
    "posts.write": (("editor",), "viết và sửa bài của đơn vị mình", "write and edit your unit's posts"),
    "posts.moderate": (("moderator",), "duyệt, từ chối, hẹn giờ, đăng và gỡ bài (Ban kiểm duyệt)",
                       "moderate, schedule, publish and retract posts (admin board)"),
    "posts.archive": (("editor", "moderator"), "lưu trữ bài", "archive posts"),
    "media.upload": (("editor",), "tải ảnh, video lên", "upload media"),
    # notify
    "deliveries.retry": (("moderator",), "gửi lại bài gửi lỗi", "retry failed deliveries"),
    "relay_tasks.read_all": (("moderator",), "xem mọi nhiệm vụ đăng tay", "see every relay task"),
    # tips
    "tips.read": (("triage_officer", "unit_operator", "auditor"), "xem tin báo", "read tips"),
    "tips.read_all": (("auditor",), "xem tin báo của mọi đơn vị (chỉ đọc)", "read every unit's tips (read only)"),
    "tips.handle": (("triage_officer", "unit_operator"), "xử lý tin báo của đơn vị mình",
                    "handle your units' tips"),
    "tips.reveal_identity": ((), "xem danh tính người báo tin (có lý do, được ghi nhật ký)",
                             "reveal who sent a tip (with a reason, audited)"),
    "routing.read": (("auditor",), "xem bảng phân tuyến tin báo", "read the routing table"),
    "routing.edit": ((), "sửa bảng phân tuyến tin báo", "edit the routing table"),
    "faq.edit": (("triage_officer",), "sửa kho hỏi đáp thủ tục", "edit the procedures FAQ"),
    "reply_templates.edit": ((), "sửa mẫu trả lời tin báo", "edit reply templates"),
}
for _name, (_roles, *_labels) in PERMISSIONS.items():
    assert set(_roles) <= set(ROLES), _name


def roles_holding(permission):
    """Every role that holds `permission` (admin included)."""
    return ("admin",) + tuple(r for r in PERMISSIONS[permission][0] if r != "admin")


class Actor(dict):
    """The officer a request acts for: the RPC dict, with the questions asked of it."""

    @classmethod
    def of(cls, value):
        if isinstance(value, cls):
            return value
        value = dict(value or {})
        roles = value.get("roles") or []
        value["roles"] = [r for r in roles if r in ROLES]
        return cls(value)

    @property
    def roles(self):
        return frozenset(self.get("roles") or ())

    @property
    def is_admin(self):
        return "admin" in self.roles

    def may(self, permission):
        roles, *_ = PERMISSIONS[permission]  # KeyError: a permission nobody defined is a bug
        return self.is_admin or bool(self.roles & set(roles))

    def require(self, permission):
        """Forbidden, saying what is needed and what the officer has, unless they may."""
        if not self.may(permission):
            raise Forbidden(refusal(permission, self.roles), {"permission": [permission]})
        return self

    def scope_root(self):
        """The unit whose subtree this officer acts for; None for an admin (every unit).
        An officer with no unit acts for nothing: raise rather than widen."""
        if self.is_admin:
            return None
        if not self.get("unit_id"):
            raise Forbidden("Tài khoản chưa gắn với đơn vị nào: đề nghị quản trị viên gán đơn vị / "
                            "your account belongs to no unit: ask an administrator to set one",
                            {"unit_id": ["none"]})
        return self["unit_id"]


def refusal(permission, roles):
    """The 403 message: the permission needed, who holds it, and what the officer has."""
    _, vi, en = PERMISSIONS[permission]
    holders = roles_holding(permission)
    have = ", ".join(sorted(roles)) or "—"
    return (f"Cần quyền «{vi}» (vai trò: {', '.join(holders)}); bạn có: {have} / "
            f"requires permission '{permission}' ({en}; roles: {', '.join(holders)}); you have: {have}")


def may(actor, permission):
    return Actor.of(actor).may(permission)


def require(actor, permission):
    return Actor.of(actor).require(permission)
