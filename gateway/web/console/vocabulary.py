"""What the console calls the services' codes (channel types, unit kinds, tip categories…), in
Vietnamese; lazy, so each page shows them in the officer's language. A code with no name here
is shown as it is. The names are the ones the posts' and tips' screens use
(console/_post_labels.html, console/_tip_words.html): one thing, one name on every page."""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

CHANNEL_TYPES = {
    "facebook_page": _l("Trang Facebook"),
    "zalo_oa_group": _l("Nhóm Zalo OA (gửi tự động)"),
    "zalo_group_manual": _l("Nhóm Zalo thường (đăng tay)"),
    "youtube_channel": _l("Kênh YouTube"),
    "webhook": _l("Hệ thống đối tác (webhook)"),
    "email": _l("Thư điện tử"),
}
CHANNEL_STATUSES = {"active": _l("Đang hoạt động"), "inactive": _l("Ngừng hoạt động")}
DELIVERY_MODES = {"api": _l("Qua API"), "manual_relay": _l("Cán bộ đăng tay")}
UNIT_KINDS = {
    "city_police": _l("Công an thành phố"),
    "team": _l("Đội nghiệp vụ"),
    "ward_police": _l("Công an phường, xã"),
    "partner": _l("Đơn vị phối hợp"),
}
TIP_CATEGORIES = {
    "theft_robbery": _l("Trộm cắp, cướp giật"),
    "violence": _l("Đánh nhau, bạo lực"),
    "drugs": _l("Ma túy"),
    "gambling": _l("Cờ bạc"),
    "fraud": _l("Lừa đảo"),
    "public_order": _l("Gây rối trật tự"),
    "traffic": _l("Giao thông"),
    "wanted_sighting": _l("Phát hiện đối tượng truy nã"),
    "urban_order": _l("Trật tự đô thị"),
    "procedure_question": _l("Hỏi thủ tục hành chính"),
    "other": _l("Khác"),
    "spam": _l("Tin rác"),
    "none": _l("Chưa phân loại"),
}
UNIT_HANDLES = dict(TIP_CATEGORIES, outreach=_l("Tuyên truyền"))
POST_KINDS = {
    "news": _l("Tin tức"),
    "warning": _l("Cảnh báo"),
    "procedure_guide": _l("Hướng dẫn thủ tục"),
    "wanted_notice": _l("Thông báo truy nã"),
    "surrender_appeal": _l("Kêu gọi đầu thú"),
    "video": _l("Video"),
}
# notify's delivery outcomes (contracts.notify.SUMMARY_COUNTERS)
DELIVERY_OUTCOMES = {
    "sent": _l("Đã gửi"),
    "failed": _l("Lỗi, thất bại"),
    "pending": _l("Đang chờ gửi"),
    "relay_open": _l("Chờ cán bộ đăng tay"),
    "cancelled": _l("Đã huỷ"),
    "retracted": _l("Đã gỡ"),
    "take_down_pending": _l("Chờ gỡ tay"),
}
WANTED_OUTCOMES = {
    "surrendered": _l("Ra đầu thú"),
    "arrested": _l("Bị bắt"),
    "withdrawn": _l("Đình nã, huỷ truy nã"),
}


def name_of(names, code):
    """The name of a code in one of the tables above (the code itself when it has none)."""
    if code in (None, ""):
        return ""
    return str(names.get(code, code))


# What the services' per-field messages say when they are not "Tiếng Việt / English" already:
# marshmallow's own, and the short codes groups puts next to a bilingual detail.
FIELD_MESSAGES = (
    (r"Missing data for required field\.|Field may not be null\.|required", lambda m: _("Bắt buộc phải có.")),
    (r"Unknown field\.", lambda m: _("Không có trường (cột) này.")),
    (r"Not a valid integer\.", lambda m: _("Phải là một số nguyên.")),
    (r"Not a valid string\.", lambda m: _("Phải là chữ.")),
    (r"Must be one of: (.*)\.", lambda m: _("Phải là một trong: %(values)s.", values=m[1])),
    (r"Length must be between (\d+) and (\d+)\.", lambda m: _("Từ %(low)s đến %(high)s ký tự.", low=m[1], high=m[2])),
    (r"Shorter than minimum length (\d+)\.", lambda m: _("Ít nhất %(n)s ký tự.", n=m[1])),
    (r"Longer than maximum length (\d+)\.", lambda m: _("Nhiều nhất %(n)s ký tự.", n=m[1])),
    (r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.",
     lambda m: _("Phải từ %(low)s đến %(high)s.", low=m[1], high=m[2])),
    (r"String does not match expected pattern\.", lambda m: _("Không đúng định dạng.")),
    (r"duplicate", lambda m: _("Đã có trong hệ thống.")),
    (r"unknown unit", lambda m: _("Không có đơn vị này.")),
    (r"unknown channel", lambda m: _("Không có kênh này (hoặc kênh đã ngừng hoạt động).")),
    (r"not this unit's channel", lambda m: _("Không phải kênh của đơn vị này.")),
    (r"wrong channel type", lambda m: _("Loại kênh này không nhận được sự kiện.")),
    (r"out of scope", lambda m: _("Ngoài phạm vi đơn vị của bạn.")),
)


def field_message(message):
    """A service's message about one field, in the officer's language."""
    for pattern, say in FIELD_MESSAGES:
        match = re.fullmatch(pattern, message)
        if match:
            return say(match)
    return message
