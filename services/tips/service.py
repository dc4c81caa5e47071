"""Tips service (nameko entrypoints): intake, triage and routing, staff work, follow-up, SLA.

Web tips arrive on the intake queue (`store_queued_tip`: the gateway already answered the
citizen, so the tip is stored under the code it drew, once per intake id); Zalo and
Facebook tips by RPC (`submit_tip`, answered after the commit). Staff operations take the
acting officer (`actor`, from the gateway's token) first; the unit scope comes from groups'
`scope_of`. Rules live in `domain/`, queries in `store.py`; this module loads input, gathers
what the rules need, writes the result with its events in one transaction (`store.save_tips` /
`store.create_tip`) and answers through the contracts' response schemas. Tip text and tipster
identity are never logged.
"""
import base64
import binascii
import logging
import uuid
from datetime import timedelta


from contracts.permissions import Actor, require
from contracts.rpc import Conflict, Forbidden, InvalidInput, NotFound
from contracts.tips import (ACCESS_DENIED, ANY, ATTACHMENT_MAX_BYTES, CATEGORIES, INTAKE_QUEUE, SOURCES,
                            TipAccessDenied, VaultUnavailable)
from service_runtime import logs
from service_runtime.entrypoints import RpcProxy, ServiceBase, event_subscriber, rpc, work_consumer
from service_runtime.storage import StoreProvider, utcnow
from contracts.text import fold_for_search, search_tokens
from service_runtime.validation import load
from contracts import photos
from services.tips import domain, schemas
from services.tips.store import CodeTaken, DuplicateIntake, StaleTip, TipsStore, new_tip_id
from services.tips.triage import WardGazetteer, near_duplicates, triage
from services.tips.dependencies import Cached, TriageModelProvider, VaultProvider, sla_timer
from services.tips.events import (SUMMARY_CHARS, assigned_event, received_event, reply_event, status_event,
                                  triaged_event, escalated_event)
from services.tips.vault import alias_for

logger = logging.getLogger(__name__)

DIRECTORY_TTL_SECONDS = 60     # wards and units from groups: reorganisations are rare
PENDING_TRIAGE_AFTER = 2       # seconds before the timer triages a tip intake could not
DUPLICATES_SHOWN = 3
FAQ_SUGGESTIONS = 3
SAVE_ATTEMPTS = 3


def on_fresh_data(save, conflict=None):
    """save() reads the tip, applies the domain rules and writes it only if nobody changed it
    meanwhile (StaleTip otherwise): run it again on fresh data, up to SAVE_ATTEMPTS times."""
    for attempt in range(SAVE_ATTEMPTS):
        try:
            return save()
        except StaleTip:
            if attempt == SAVE_ATTEMPTS - 1:
                raise conflict or Conflict("Tin báo vừa được cập nhật, hãy tải lại / the tip changed, reload it")


# --- responses: dumped through the contracts' schemas (the gateway documents and dumps the same) -------

TIP = schemas.Tip()
TIP_SUMMARIES = schemas.TipSummary(many=True)
PUBLIC_STATUS = schemas.PublicStatus()


def staff_view(tip):
    return TIP.dump(domain.staff_view(tip, alias_for(tip["id"])))


def summary_views(tips):
    """The staff list's rows: the summary is the start of the text."""
    return TIP_SUMMARIES.dump([dict(tip, summary=tip.get("text", "")[:SUMMARY_CHARS], channel=tip.get("channel", "web"),
                                    is_spam=bool(tip.get("is_spam"))) for tip in tips])


def receipt(tip, secret, duplicate=False):
    return schemas.TipReceipt().dump(domain.receipt(tip["tip_code"], secret, tip.get("urgency"), duplicate))


def with_message_id(tip):
    """Give the message just appended an id (replies are delivered and referred to by it)."""
    tip["messages"][-1]["id"] = uuid.uuid4().hex
    return tip["messages"][-1]


class TipsService(ServiceBase):
    name = "tips"
    store = StoreProvider(TipsStore)
    vault = VaultProvider()
    cache = Cached()
    groups = RpcProxy("groups")
    triage_model = TriageModelProvider()

    @rpc
    def health(self):
        report = self.store.health_report()
        report["vault"] = {"ok": self.vault.vault is not None, **({"error": self.vault.error}
                                                                  if self.vault.error else {})}
        return report

    # --- what groups owns (cached) -------------------------------------------------------------
    def _wards(self):
        def load_wards():
            wards = self.groups.get_reference().get("wards", [])
            return {"ids": {w["id"] for w in wards}, "gazetteer": WardGazetteer(wards)}
        return self.cache.get("wards", DIRECTORY_TTL_SECONDS, load_wards)

    def _units(self):
        return self.cache.get("units", DIRECTORY_TTL_SECONDS, lambda: self.groups.list_all_units())

    def _active_unit(self, unit_id):
        units = {u["id"]: u for u in self._units()}
        if unit_id not in units:  # created a moment ago? ask again before refusing
            self.cache.forget("units")
            units = {u["id"]: u for u in self._units()}
        unit = units.get(unit_id)
        if unit is None or not unit.get("active", True):
            raise InvalidInput("Đơn vị không tồn tại / unknown unit", {"unit_id": ["unknown unit"]})
        return unit

    # --- intake ----------------------------------------------------------------------------------
    @rpc
    def submit_tip(self, source, payload, source_message_id=None, source_user=None):
        """Store a citizen's tip, triaged and routed, with its events, in one transaction.

        Returns {tip_code, secret, status_url, urgency, message, duplicate}. The same
        platform message sent again returns the first tip's code and no secret.
        """
        if source not in SOURCES:
            raise InvalidInput("Nguồn không hợp lệ / unknown source", {"source": list(SOURCES)})
        if source == "web":
            data = load(schemas.PublicTip(), payload if isinstance(payload, dict) else {})
            secret = domain.new_secret()
        else:
            data = load(schemas.ChannelTip(), payload if isinstance(payload, dict) else {})
            if not (isinstance(source_message_id, str) and source_message_id
                    and isinstance(source_user, str) and source_user):
                raise InvalidInput("Thiếu mã tin nhắn hoặc người gửi / message id and sender required",
                                   {"source_message_id": ["required"], "source_user": ["required"]})
            data[f"{source}_user_id"] = source_user
            secret = None  # a Zalo/Facebook tipster follows up in the same conversation
        existing = self.store.find_intake(source, source_message_id)
        if existing is not None:
            return receipt(existing, None, duplicate=True)
        now = utcnow()
        intake = domain.prepare_intake(dict(data, channel=source, message_id=source_message_id), now)
        secret_hash = domain.hash_secret(secret) if secret else None
        try:
            # Nobody holds a code yet: a taken one is drawn again.
            tip = self._store_new_tip(intake, now, secret_hash, [domain.new_tip_code() for _ in range(5)])
        except DuplicateIntake as dup:
            return receipt(dup.existing, None, duplicate=True)
        return receipt(tip, secret)

    # No vault key yet: a tip with a contact waits in the queue (retried), not in the dead letters.
    @work_consumer(INTAKE_QUEUE, key_field="intake_id", retry_later=(VaultUnavailable,))
    def store_queued_tip(self, message):
        """Store a web tip the gateway queued (and already acknowledged to the citizen).

        The message is acked after the commit; delivered again, it finds its tip by intake id
        and changes nothing. A message that fails validation, or whose code is taken (the
        citizen holds that code: see domain.new_tip_code), is dead-lettered, never dropped.
        """
        data = load(schemas.IntakeMessage(), message)
        if self.store.find_intake("web", data["intake_id"]) is not None:
            logs.log(logger, logging.INFO, "queued tip already stored", intake_id=data["intake_id"])
            return
        received_at = data["received_at"]
        intake = domain.prepare_intake(dict(data["payload"], channel="web", message_id=data["intake_id"]),
                                       received_at)
        try:
            self._store_new_tip(intake, received_at, data["secret_hash"], [data["tip_code"]])
        except DuplicateIntake:
            logs.log(logger, logging.INFO, "queued tip already stored", intake_id=data["intake_id"])
        except CodeTaken:
            raise InvalidInput("Mã tin báo đã được dùng / tip code already taken", {"tip_code": ["taken"]})

    def _store_new_tip(self, intake, received_at, secret_hash, codes):
        """Seal the identity, triage and route, and store the tip with its events under the
        first free code of `codes`. Raises DuplicateIntake, or CodeTaken when none is free."""
        tip_id = new_tip_id(received_at)
        sealed = self.vault.require().seal(intake["identity"], tip_id) if intake["identity"] else None
        ref = {"in": "vault", "kid": sealed["kid"]} if sealed else None
        for code in codes:
            tip = domain.new_tip(tip_id, code, intake["body"], secret_hash, received_at, ref)
            tip, more = self._triage_safely(tip, utcnow())
            try:  # received after triage, so that it carries the ward units filter on
                tip = self.store.create_tip(tip, sealed, [received_event(tip)] + more)
            except CodeTaken:
                continue
            logs.log(logger, logging.INFO, "tip received", tip_id=tip_id, source=tip["channel"],
                     category=tip.get("category"), urgency=tip.get("urgency"), unit_id=tip.get("unit_id"))
            return tip
        raise CodeTaken()

    def _triage_safely(self, tip, now):
        """Triage and route now; if that cannot run (groups unreachable, a triage bug) the
        tip is still stored, as `received`, and the SLA timer triages it shortly."""
        try:
            return self._triage_and_route(tip, now)
        except Exception as exc:
            logs.log(logger, logging.WARNING, "triage deferred", tip_id=tip["id"], error=type(exc).__name__)
            return tip, []

    def _triage_and_route(self, tip, now):
        wards = self._wards()
        units = self._units()
        result = triage(domain.triage_text(tip), wards["gazetteer"], tip.get("chosen_category"),
                        model=self.triage_model)
        tip = domain.apply_triage(tip, result, now, self.store.sla)
        tip["triaged_at"] = now
        tip["duplicate_candidates"] = self._duplicate_candidates(tip, now)
        if tip["category"] == "procedure_question":
            tip["faq_suggestions"] = self._faq_suggestions(tip["text"])
        if tip["category"] == "wanted_sighting":
            tip["wanted_notice"] = self._wanted_notice_named_in(tip["text"])
        events = [triaged_event(tip)]
        unit_id = domain.route(tip["category"], tip.get("ward"), self.store.routing_rules()["rules"], units)
        if unit_id is not None:
            tip = domain.assign(tip, unit_id, domain.SYSTEM_ACTOR, now, True)
            events.append(assigned_event(tip))
        if tip["channel"] != "web":
            # The acknowledgement goes back through the conversation the tip came from.
            for text in [domain.citizen_ack(tip["tip_code"], tip["urgency"])] + \
                    domain.faq_replies(domain.faq_answers(tip)):  # a procedure question: the FAQ answers too
                tip = domain.add_message(tip, "police", text, now, author_id=domain.SYSTEM_ACTOR["id"])
                events.append(reply_event(tip, with_message_id(tip)))
        return tip, events

    def _duplicate_candidates(self, tip, now):
        others = self.store.open_tip_texts(tip["category"], tip.get("ward"), tip["id"], now)
        codes = {tip_id: code for tip_id, _, code in others}
        found = near_duplicates(tip["text"], [(tip_id, text) for tip_id, text, _ in others])
        return [{"tip_id": tip_id, "tip_code": codes[tip_id], "score": score}
                for tip_id, score in found[:DUPLICATES_SHOWN]]

    def _faq_suggestions(self, text):
        index, entries = self.store.faq_index()
        return [{"faq_id": faq_id, "title": entries[faq_id]["title"], "answer": entries[faq_id]["answer"],
                 "score": score} for faq_id, score in index.suggest(text, k=FAQ_SUGGESTIONS)]

    def _wanted_notice_named_in(self, text):
        """The open wanted notice whose person's full name (folded) the tip contains."""
        folded = f" {fold_for_search(text)} "
        best = None
        for notice in self.store.open_wanted_notices():
            name = notice.get("name_folded")
            if name and f" {name} " in folded and (best is None or len(name) > len(best["name_folded"])):
                best = notice
        if best is None:
            return None
        return {"post_id": best["_id"], "title": best.get("title"), "full_name": best.get("full_name")}

    # --- the SLA timer -----------------------------------------------------------------------------
    @sla_timer(interval=5)
    def check_sla(self):
        """Triage what intake could not, then escalate breached tips one level up.

        Every instance runs this; each change is a write conditional on the version (and
        escalation level) read, so a level is escalated, and its event emitted, once.
        """
        now = utcnow()
        for tip in self.store.pending_triage(now - timedelta(seconds=PENDING_TRIAGE_AFTER)):
            try:
                triaged, events = self._triage_and_route(tip, now)
                self.store.save_pending_triage(tip, triaged, events)
            except StaleTip:
                pass  # another instance did it
            except Exception as exc:
                logs.log(logger, logging.WARNING, "pending triage failed", tip_id=tip["id"],
                         error=type(exc).__name__)
                break  # groups is probably down: try again next tick
        due = self.store.due_for_escalation(now)
        if not due:
            return
        try:
            units_by_id = {u["id"]: u for u in self._units()}
        except Exception as exc:
            logs.log(logger, logging.WARNING, "escalation postponed: no unit directory", error=type(exc).__name__)
            return
        for tip in due:
            escalated, escalation = domain.escalate(tip, now, units_by_id, self.store.sla)
            if escalation is None:
                if domain.next_escalation(tip, now + timedelta(days=3650), units_by_id, self.store.sla) is None:
                    self.store.stop_escalation_checks(tip)
                continue
            level = escalation["level"]
            window = self.store.sla.get(tip.get("urgency") or "normal")
            event = escalated_event(tip, escalation,
                                    domain.as_utc(tip["received_at"]) + timedelta(seconds=level * window))
            try:
                self.store.save_escalation(tip, escalated, level, event)
                logs.log(logger, logging.INFO, "tip escalated", tip_id=tip["id"], escalation_level=level,
                         to_unit=escalation["to_unit"])
            except StaleTip:
                pass  # claimed by another instance, or changed meanwhile: the next tick looks again

    # --- posts: wanted notices ----------------------------------------------------------------------
    @event_subscriber("posts.published")
    def on_post_published(self, event):
        """Remember open wanted notices so a sighting can be linked to the notice it names."""
        data = event["data"]
        if data.get("kind") != "wanted_notice":
            return
        wanted = data.get("wanted") or {}
        full_name = wanted.get("full_name") if isinstance(wanted, dict) else None
        if not (data.get("post_id") and isinstance(full_name, str) and search_tokens(full_name)):
            return
        self.store.save_wanted_notice({"post_id": str(data["post_id"]), "title": data.get("title"),
                                       "full_name": full_name, "name_folded": fold_for_search(full_name),
                                       "publication_id": data.get("publication_id")})

    @event_subscriber("posts.retracted")
    def on_post_retracted(self, event):
        self.store.close_wanted_notice(str(event["data"]["post_id"]), "retracted")

    @event_subscriber("posts.wanted_resolved")
    def on_wanted_resolved(self, event):
        self.store.close_wanted_notice(str(event["data"]["post_id"]), event["data"].get("outcome") or "resolved")

    # --- groups: unit directory projection ------------------------------------------------------
    @event_subscriber("groups.unit_created")
    def on_unit_created(self, event):
        self.store.apply_unit_created(event)

    @rpc
    def get_unit_projection(self, unit_id):
        return self.store.unit_projection(unit_id)

    # --- staff: reading ---------------------------------------------------------------------------
    def _scope(self, actor):
        """None: every tip; else {units, wards}: the tips of the officer's units, and those of the
        wards their ward police units cover, whichever unit handles them (domain.tips_scope)."""
        actor = Actor.of(actor).require("tips.read")
        if actor.may("tips.read_all"):
            return None
        scope = self.groups.scope_of(actor)
        return None if scope is None else domain.tips_scope(set(scope), self._units())

    def _readable_tip(self, actor, tip_id):
        """(tip, in_scope). A tip outside the officer's scope is "not found": its existence is not theirs."""
        tip = self.store.require_tip(tip_id)
        scope = self._scope(actor)
        in_scope = domain.tip_in_scope(tip, scope)
        if not Actor.of(actor).may("tips.handle"):
            in_scope = False  # auditors read everything and act on nothing
        if not domain.can_read(actor, tip, in_scope):
            raise NotFound("Không tìm thấy tin báo / tip not found")
        return tip, in_scope

    @rpc
    def list_tips(self, actor, query=None):
        q = load(schemas.TipQuery(), query or {})
        tips, cursor = self.store.search(q, self._scope(actor), q["limit"], q["cursor"], utcnow())
        return {"items": summary_views(tips), "next_cursor": cursor}

    @rpc
    def get_tip(self, actor, tip_id):
        tip, _ = self._readable_tip(actor, tip_id)
        return staff_view(tip)

    # --- staff: acting ------------------------------------------------------------------------------
    def _change(self, actor, tip_id, change):
        """Apply change(tip, in_scope, now) -> (new tip, events[, audit]) and save it; a
        concurrent change is retried on fresh data (domain rules run again)."""
        def save():
            tip, in_scope = self._readable_tip(actor, tip_id)
            updated, events, *audit = change(tip, in_scope, utcnow())
            return staff_view(self.store.save_tips([(tip, updated)], events, audit=audit[0] if audit else None)[0])
        return on_fresh_data(save)

    @rpc
    def assign_tip(self, actor, tip_id, payload):
        data = load(schemas.Assign(), payload or {})
        self._active_unit(data["unit_id"])

        def change(tip, in_scope, now):
            updated = domain.assign(tip, data["unit_id"], actor, now, in_scope, reason=data.get("reason"))
            return updated, [assigned_event(updated)]
        return self._change(actor, tip_id, change)

    @rpc
    def retriage(self, actor, tip_id):
        """Run triage again (after the lexicons or the ward list changed). The new
        suggestion is kept beside the tip for the officer; its category, urgency and
        assignment stay until someone acts on it."""
        def change(tip, in_scope, now):
            if not domain.can_act(actor, tip, in_scope):
                raise Forbidden("Không có quyền / you may not act on this tip")
            result = triage(domain.triage_text(tip), self._wards()["gazetteer"], tip.get("chosen_category"),
                            model=self.triage_model)
            updated = dict(tip, retriage={"at": now, "by": actor["id"], "category": result.category,
                                          "urgency": result.urgency, "ward": result.ward,
                                          "is_spam": result.is_spam, "reasons": list(result.reasons)})
            return updated, []
        return self._change(actor, tip_id, change)

    @rpc
    def change_status(self, actor, tip_id, payload):
        data = load(schemas.StatusChange(), payload or {})
        if data.get("reason") == "duplicate":
            return self.merge_tip(actor, tip_id, {"into": data["merged_into"]})

        def change(tip, in_scope, now):
            updated = domain.change_status(tip, data["status"], actor, now, in_scope, reason=data.get("reason"))
            return updated, [status_event(tip, updated)]
        return self._change(actor, tip_id, change)

    @rpc
    def merge_tip(self, actor, tip_id, payload):
        """Close a tip as a duplicate of another; the other lists it under linked_tips."""
        data = load(schemas.Merge(), payload or {})

        def save():
            tip, in_scope = self._readable_tip(actor, tip_id)
            target = self._merge_target(actor, data["into"])
            if target["id"] == tip["id"]:
                raise InvalidInput("Không thể gộp tin vào chính nó / a tip cannot merge into itself",
                                   {"into": ["same tip"]})
            if target.get("close_reason") == "duplicate":
                raise InvalidInput("Hãy gộp vào tin gốc / merge into the original tip",
                                   {"into": [f"already merged into {target.get('merged_into')}"]})
            now = utcnow()
            closed = domain.change_status(tip, "closed", actor, now, in_scope, reason="duplicate",
                                          merged_into=target["id"])
            linked = dict(target, linked_tips=list(target.get("linked_tips") or []) + [
                {"tip_id": tip["id"], "tip_code": tip["tip_code"], "at": now}], updated_at=now)
            saved = self.store.save_tips([(tip, closed), (target, linked)], [status_event(tip, closed)])
            return staff_view(saved[0])
        return on_fresh_data(save)

    def _merge_target(self, actor, id_or_code):
        """The tip to merge into (by id or tip code), if this officer may see it."""
        unknown = InvalidInput("Không tìm thấy tin gộp vào / the tip to merge into was not found",
                               {"into": ["unknown tip"]})
        found = self.store.get_tip(id_or_code) or self.store.get_tip_by_code(domain.parse_tip_code(id_or_code))
        if found is None:
            raise unknown
        try:
            return self._readable_tip(actor, found["id"])[0]
        except NotFound:
            raise unknown

    @rpc
    def add_message(self, actor, tip_id, payload):
        """A reply to the tipster (delivered on their channel: tips.reply_sent) or an internal note."""
        data = load(schemas.StaffMessage(), payload or {})

        def change(tip, in_scope, now):
            if data["internal"]:
                return domain.add_note(tip, data["text"], actor, now, in_scope), []
            updated = domain.staff_reply(tip, data["text"], actor, now, in_scope)
            return updated, [reply_event(updated, with_message_id(updated))]
        return self._change(actor, tip_id, change)

    @rpc
    def correct_triage(self, actor, tip_id, payload):
        """An officer corrects category, urgency and/or ward: the tip changes (its unit does not:
        reassigning stays a decision of its own), the correction is kept as a labelled example,
        and tips.triaged is announced again with the corrected values."""
        data = load(schemas.TriageCorrection(), payload or {})
        ward_ids = self._wards()["ids"]
        def save():
            tip, in_scope = self._readable_tip(actor, tip_id)
            updated, correction = domain.correct_triage(tip, data, actor, utcnow(), in_scope, ward_ids,
                                                        self.store.sla)
            return staff_view(self.store.save_triage_correction(tip, updated, correction, [triaged_event(updated)]))
        return on_fresh_data(save)

    @rpc
    def triage_corrections(self, actor, query=None):
        """Officers' corrections in [since, until) (ISO dates), for the units this officer sees:
        {corrections, labels (latest per tip, the data files' format), pairs [[field, from, to, n]]}."""
        q = load(schemas.CorrectionQuery(), query or {})
        corrections = self.store.triage_corrections(q.get("since"), q.get("until"), self._scope(actor))
        latest = {c["tip_id"]: c for c in corrections}
        return schemas.TriageCorrectionReport().dump({
            "corrections": corrections, "labels": [domain.label_row(c) for c in latest.values()],
            "pairs": domain.correction_report(corrections)})

    @rpc
    def acknowledge_tip(self, actor, tip_id):
        """An officer takes the tip up: in_progress, so its SLA clock stops (domain.acknowledge)."""
        def change(tip, in_scope, now):
            updated = domain.acknowledge(tip, actor, now, in_scope)
            return updated, [status_event(tip, updated)]
        return self._change(actor, tip_id, change)

    # --- identity ------------------------------------------------------------------------------------
    @rpc
    def reveal_identity(self, actor, tip_id, payload):
        """Who sent a tip: admin only, with a reason; the audit entry commits before the answer."""
        data = load(schemas.Reveal(), payload or {})
        if not domain.can_reveal(actor, None, True):
            raise Forbidden("Chỉ quản trị viên được xem danh tính người báo tin / only an admin may "
                            "see who sent a tip")
        result = {}

        def change(tip, in_scope, now):
            updated = domain.record_reveal(tip, actor, now, in_scope, reason=data["reason"])
            sealed = self.store.get_sealed(tip["id"])
            result["identity"] = self.vault.require().open(sealed, tip["id"]) if sealed else None
            result["audit_id"] = uuid.uuid4().hex
            audit = {"_id": result["audit_id"], "at": now, "actor": actor.get("id"), "tip_id": tip["id"],
                     "reason": updated["audit"][-1]["reason"], "kind": "reveal"}
            return updated, [], audit
        self._change(actor, tip_id, change)
        logs.log(logger, logging.WARNING, "tipster identity revealed", tip_id=tip_id, actor=actor.get("id"))
        return schemas.RevealedIdentity().dump({"tip_id": tip_id, "identity": result["identity"],
                                                "audit_id": result["audit_id"]})

    @rpc
    def reply_recipient(self, tip_id):
        """Internal (notify): where a reply to this tipster goes. Opens the vault: audited."""
        tip = self.store.require_tip(tip_id)
        source = tip.get("channel", "web")
        if source == "web":
            return {"source": "web"}
        sealed = self.store.get_sealed(tip_id)
        identity = self.vault.require().open(sealed, tip_id) if sealed else {}
        self.store.record_system_read({"_id": uuid.uuid4().hex, "at": utcnow(), "actor": "system:notify",
                                       "tip_id": tip_id, "reason": "gửi phản hồi cho người báo tin / "
                                                                   "deliver a reply to the tipster",
                                       "kind": "system_read"})
        key = f"{source}_user_id"
        return {"source": source, key: identity.get(key)}

    @rpc
    def reveal_audit(self, tip_id):
        """Every opening of this tip's vault entry, oldest first (for audits and tests)."""
        return schemas.RevealRecord(many=True).dump(self.store.reveal_audit_for(tip_id))

    @rpc
    def list_reveals(self, actor, tip_id):
        """The reveal audit of one tip, for the officers who may reveal (admins): every opening of
        its vault entry, oldest first."""
        require(actor, "tips.reveal_identity")
        self._readable_tip(actor, tip_id)
        return self.reveal_audit(tip_id)

    # --- the tipster ---------------------------------------------------------------------------------
    def _tip_for_tipster(self, code, secret):
        tip = self.store.get_tip_by_code(domain.parse_tip_code(code))
        ok = domain.verify_secret(tip.get("secret_hash") if tip else None, secret)
        if tip is None or not ok:
            raise TipAccessDenied(ACCESS_DENIED)
        return tip

    @rpc
    def public_status(self, code, secret):
        return PUBLIC_STATUS.dump(domain.public_status(self._tip_for_tipster(code, secret)))

    @rpc
    def public_message(self, code, secret, payload):
        """The tipster adds information; officers see it in the tip's messages."""
        data = load(schemas.PublicMessage(), payload or {})
        def save():
            tip = self._tip_for_tipster(code, secret)
            updated = domain.add_message(tip, "citizen", data["text"], utcnow())
            with_message_id(updated)
            return PUBLIC_STATUS.dump(domain.public_status(self.store.save_tips([(tip, updated)])[0]))
        return on_fresh_data(save, Conflict("Vui lòng gửi lại / please send again"))

    @rpc
    def store_attachment(self, content_type, data_b64):
        """A tipster's photo, stored before its tip is queued (the web form). Only a photo that
        carries no metadata is kept (the gateway re-encoded it: photos.clean_photo), so no
        phone's GPS position reaches an officer. Returns {upload_id, content_type, size}."""
        try:
            data = base64.b64decode(data_b64 if isinstance(data_b64, str) else "", validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if not 0 < len(data) <= ATTACHMENT_MAX_BYTES or not photos.is_clean(data, content_type):
            raise InvalidInput("Ảnh không hợp lệ hoặc còn siêu dữ liệu / not a photo without metadata",
                               {"file": ["a JPEG, PNG or WebP photo without EXIF, at most 10 MB"]})
        return self.store.put_attachment(data, content_type)

    @rpc
    def get_attachment(self, actor, tip_id, upload_id):
        """A photo of a tip this officer may read: {upload_id, content_type, size, data (base64)}."""
        tip, _ = self._readable_tip(actor, tip_id)
        if upload_id not in {a.get("upload_id") for a in tip.get("attachments") or ()}:
            raise NotFound("Không tìm thấy tệp / attachment not found")
        found = self.store.get_attachment(upload_id)
        return dict(found, data=base64.b64encode(found["data"]).decode())

    # --- routing rules --------------------------------------------------------------------------------
    @rpc
    def get_routing_rules(self, actor):
        require(actor, "routing.read")
        return schemas.RoutingTable().dump(self.store.routing_rules())

    @rpc
    def put_routing_rules(self, actor, payload):
        require(actor, "routing.edit")
        data = load(schemas.RoutingRules(), payload or {})
        self.cache.forget("units")  # check against the directory as it is now
        rules = domain.validate_rules(data["rules"], self._units(), CATEGORIES, wards=self._wards()["ids"])
        return schemas.RoutingTable().dump(self.store.save_routing_rules(rules, actor.get("id")))

    # --- FAQ --------------------------------------------------------------------------------------------
    @rpc
    def list_faq(self, query=None):
        q = load(schemas.Page(), query or {})
        entries, cursor = self.store.list_faq(q["limit"], q["cursor"])
        return {"items": entries, "next_cursor": cursor}

    @rpc
    def create_faq(self, actor, payload):
        self._require_faq_editor(actor)
        return self.store.create_faq(load(schemas.FaqEntry(), payload or {}))

    @rpc
    def update_faq(self, actor, faq_id, payload):
        self._require_faq_editor(actor)
        changes = load(schemas.FaqPatch(), payload or {})
        if not changes:
            raise InvalidInput("Không có gì để sửa / nothing to change", {"_body": ["empty"]})
        return self.store.update_faq(faq_id, changes)

    @staticmethod
    def _require_faq_editor(actor):
        require(actor, "faq.edit")

    # --- reply templates ----------------------------------------------------------------------------
    @rpc
    def list_reply_templates(self, actor, query=None):
        """Every template, or those a reply to a tip of `category` is offered (domain.templates_for)."""
        require(actor, "tips.read")
        q = load(schemas.ReplyTemplateQuery(), query or {})
        category = q.get("category")
        if category is None:
            templates = self.store.reply_templates()
        else:
            templates = domain.templates_for(category, self.store.reply_templates({category, ANY}))
        return schemas.ReplyTemplateList().dump({"items": templates})

    @rpc
    def create_reply_template(self, actor, payload):
        require(actor, "reply_templates.edit")
        fields = domain.reply_template(load(schemas.ReplyTemplateInput(), payload or {}))
        return schemas.ReplyTemplate().dump(self.store.create_reply_template(fields, actor.get("id")))

    @rpc
    def update_reply_template(self, actor, template_id, payload):
        require(actor, "reply_templates.edit")
        changes = domain.reply_template(load(schemas.ReplyTemplatePatch(), payload or {}), partial=True)
        if not changes:
            raise InvalidInput("Không có gì để sửa / nothing to change", {"_body": ["empty"]})
        return schemas.ReplyTemplate().dump(self.store.update_reply_template(template_id, changes, actor.get("id")))

    @rpc
    def delete_reply_template(self, actor, template_id):
        require(actor, "reply_templates.edit")
        self.store.delete_reply_template(template_id)

    # --- stats -------------------------------------------------------------------------------------------
    @rpc
    def work_counts(self, actor):
        """What waits in this officer's scope (the console's home): open tips nobody has taken up
        yet, open emergencies among them, and those already past their SLA."""
        return self.store.work_counts(self._scope(actor), utcnow())

    @rpc
    def tip_stats(self, actor, query=None):
        q = load(schemas.StatsQuery(), query or {})
        return schemas.TipStats().dump(domain.tip_stats(self.store.stats_rows(q, self._scope(actor))))
