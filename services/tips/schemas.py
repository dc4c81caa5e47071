"""Tips: input schemas. The payloads cross the service boundary, so they live in
contracts/tips.py (the gateway validates with the same ones); this module names them
for the service.

Every schema raises on unknown fields. Shape only: the meaning (NFC, control
characters, emoji-only text, the 5,000-character cap, ward lookup) is decided by
``domain.prepare_intake`` and friends, which the service calls after loading.
"""
from contracts.rpc import PageQuery as Page  # noqa: F401
from contracts.tips import (  # noqa: F401
    RAW_TEXT_MAX, SLUG, Assign, Attachment, ChannelTip, Contact, FaqEntry, FaqPatch, IntakeMessage, Location,
    Merge, PublicMessage, PublicTip, Reveal, RoutingRule, RoutingRules, StaffMessage, StatsQuery, StatusChange,
    TipAccess, TipQuery,
)
from contracts.tips import CorrectionQuery, TriageCorrection  # noqa: F401

from contracts.tips import ReplyTemplateInput, ReplyTemplatePatch, ReplyTemplateQuery  # noqa: F401
