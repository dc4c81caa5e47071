"""Tips: input and response schemas. Payloads and answers cross the service boundary, so they
live in contracts/tips.py (the gateway validates and documents with the same ones); this module
names them for the service.

Every input schema raises on unknown fields. Shape only: the meaning (NFC, control
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

# What the service answers: the gateway documents and dumps the same schemas.
from contracts.tips import (  # noqa: F401
    PublicStatus, ReplyTemplate, ReplyTemplateList, RevealedIdentity, RevealRecord, RoutingTable, Tip, TipReceipt,
    TipStats, TipSummary, TriageCorrectionReport)
