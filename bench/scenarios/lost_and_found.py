"""lost_and_found in the simulation: items turned in three ways (by visitors
and staff at the desk, by staff on site), lost reports (some for items that
turn up, some not), matches, calls to the visitor, verifications (now and
then a claimant who is not the owner), claims of the three kinds, team
leads' on-spot forms, valuables to the custodian in the evening, monthly
handovers of unclaimed items to finance and finance's sign-off; and what the
paper forms carry: corrections and voided duplicates, moves between desks and
on-site items arriving at the desk, signatures, proxy claims (代领), returns
by courier, and the other disposal routes (police, issuing bank, destruction
before a witness).

Every command is built in the ``*_command`` functions at the top, the way
services/lost_and_found/service.py builds it from a request: when the
service's commands change, change them here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from decimal import Decimal

from bench.scenarios import texts
from bench.scenarios.base import Simulation
from services.chassis.config import load_config
from services.lost_and_found import domain as d

SERVICE = "lost_and_found"
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)

FOUND_PER_UNIT = 4.0        # items turned in per desk-share and unit of volume
LOST_ONLY_PER_UNIT = 2.5    # lost reports of things nobody turns in
HANDOVER_BATCH = 500        # items per finance handover list (the RPC's limit)
STORAGE = ("服务台抽屉1", "服务台抽屉2", "失物柜A层", "失物柜B层", "服务台下柜")
SAFE = ("贵重物品保险柜1号", "贵重物品保险柜2号", "保管室保险柜")


CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "deploy", "config.yaml")


def _config():
    """Valuable categories, retention, how long a verification holds and the
    desks' shift end as deploy/config.yaml sets them for the service."""
    from services.lost_and_found.service import (DEFAULT_VALUABLE_CATEGORIES, DEFAULT_VERIFICATION_VALID_MINUTES,
                                                 retention_policy)
    config = load_config(CONFIG, environ={})
    valid = dt.timedelta(minutes=int(config.get("LF_VERIFICATION_VALID_MINUTES", DEFAULT_VERIFICATION_VALID_MINUTES)))
    return (frozenset(config.get("VALUABLE_CATEGORIES", DEFAULT_VALUABLE_CATEGORIES)), retention_policy(config),
            valid, config)


VALUABLES, RETENTION, VERIFICATION_VALID_FOR, _CONFIG = _config()


def claimant_key(item_id: str, id_number: str) -> str:
    """Stands in for the service's keyed hash (services/lost_and_found/service.py
    ``claimant_key``, which needs the vault): the same claimant, the same key."""
    return hashlib.sha256(f"{item_id}|{id_number}".encode()).hexdigest()


# -- the commands, as the service builds them --------------------------------------------------
def turn_in_command(sim: Simulation, *, item_id, desk, channel, thing: texts.Item, found_place, found_at,
                    finder, registered_by, registered_by_role, storage_place, witness=(None, None),
                    owner_urgent=False, short_code=None):
    """``finder``: (kind, staff id or None, name, phone or None, department or None)."""
    kind, finder_id, name, phone, department = finder
    at = sim.now
    return d.item_stream(item_id), d.TurnInFoundItem(
        item_id=item_id, desk=desk, channel=channel, item_name=thing.name, category=thing.category,
        description=thing.description, found_place=found_place, found_at=found_at, finder_kind=kind,
        finder_id=finder_id, finder_name=name, finder_phone=phone, finder_department=department,
        registered_by=registered_by, registered_by_role=registered_by_role, storage_place=storage_place, at=at,
        business_date=sim.local_date(at), hidden_features=thing.hidden, witness_id=witness[0],
        witness_name=witness[1], owner_urgent=owner_urgent, valuable_categories=VALUABLES, retention=RETENTION,
        short_code=short_code, **_cash(item_id, thing.category))


def _cash(item_id: str, category: str) -> dict:
    """Cash is registered with its counted amount: a deterministic one from
    the item id (drawing it from the simulation's generator would change
    every later draw)."""
    if category != "cash":
        return {}
    hundreds = int(hashlib.sha256(item_id.encode()).hexdigest()[:4], 16) % 20 + 1
    return {"cash_amount": Decimal(100 * hundreds), "currency": "CNY"}


def report_command(sim: Simulation, *, report_id, desk, name, category, description, features, lost_place,
                   lost_from, lost_until, visitor, clerk):
    at = sim.now
    return d.report_stream(report_id), d.ReportLostItem(
        report_id=report_id, desk=desk, item_name=name, category=category, description=description,
        features=features, lost_place=lost_place, lost_from=lost_from, lost_until=lost_until,
        visitor_name=visitor[0], visitor_phone=visitor[1], received_by=clerk, at=at, business_date=sim.local_date(at))


def confirm_match_command(sim: Simulation, *, report_id, item: "Case", task_id, clerk):
    facts = d.ItemFacts(item.item_id, item.short_code, item.status, matched_report_id=item.matched_report)
    return d.report_stream(report_id), d.ConfirmMatch(report_id, facts, task_id, clerk, sim.now)


def _released(report_id: str) -> bool:
    """About one confirmed match in 30 is taken back: decided from the report id
    (a draw from the simulation's generator would change every later draw)."""
    return int(hashlib.sha256(report_id.encode()).hexdigest()[:4], 16) % 30 == 0


def release_command(sim: Simulation, *, report_id, item: "Case", clerk, reason):
    facts = d.ItemFacts(item.item_id, item.short_code, item.status, matched_report_id=item.matched_report)
    return d.report_stream(report_id), d.ReleaseMatch(report_id, reason, clerk, sim.now, facts)


def contact_command(sim: Simulation, *, report_id, task_id, clerk, outcome):
    return d.report_stream(report_id), d.RecordVisitorContact(report_id, task_id, clerk, outcome, sim.now)


def verification_command(sim: Simulation, *, item_id, verification_id, description, matched, description_matched,
                         decision, by, role, id_number):
    return d.item_stream(item_id), d.RecordClaimVerification(
        item_id, verification_id, description, tuple(matched), description_matched, decision, by, role, sim.now,
        claimant_key=claimant_key(item_id, id_number))


def claim_command(sim: Simulation, *, item_id, claim_id, verification_id, kind, claimant, by, role, desk,
                  report_id=None, custodian_id=None):
    from services.lost_and_found.service import shift_end
    at = sim.now
    name, phone, id_type, id_number = claimant
    return d.item_stream(item_id), d.ClaimItem(
        item_id=item_id, claim_id=claim_id, verification_id=verification_id, claim_kind=kind, claimant_name=name,
        claimant_phone=phone, claimant_id_type=id_type, claimant_id_number=id_number, released_by=by,
        released_by_role=role, at=at, business_date=sim.local_date(at), claimant_key=claimant_key(item_id, id_number),
        verification_valid_for=VERIFICATION_VALID_FOR, report_id=report_id,
        report=d.ReportFacts(report_id, item_id) if report_id else None, custodian_id=custodian_id,
        on_spot_form_due=d.on_spot_form_due(at, sim.zone, shift_end(_CONFIG, desk)) if role == d.TEAM_LEAD else None)


def file_on_spot_command(sim: Simulation, *, item_id, clerk):
    return d.item_stream(item_id), d.FileOnSpotClaimForm(item_id, clerk, sim.now)


def custody_command(sim: Simulation, *, item_id, handed_by, custodian, storage_place, desk):
    return d.item_stream(item_id), d.HandToCustodian(item_id, handed_by, custodian, storage_place, sim.now,
                                                     desk=desk)


def handover_commands(sim: Simulation, *, handover_id, custodian, lines):
    """The service's ``hand_over_to_finance`` run: (stream, command, command id) of the list, each
    item's transfer and the outcome, in order."""
    at, today = sim.now, sim.local_date(sim.now)
    month = today.strftime("%Y-%m")
    steps = [(d.handover_stream(handover_id),
              d.DrawFinanceHandoverList(handover_id, month, custodian, tuple(lines), at, today),
              d.finance_step_command_id(handover_id, "drawn"))]
    ids = tuple(line.item_id for line in lines)
    steps += [(d.item_stream(item_id), d.HandItemToFinance(item_id, handover_id, custodian, at, today),
               d.finance_transfer_command_id(handover_id, item_id)) for item_id in ids]
    steps.append((d.handover_stream(handover_id), d.RecordFinanceTransfer(handover_id, ids, (), at),
                  d.finance_step_command_id(handover_id, "transferred")))
    return steps


def sign_off_command(sim: Simulation, *, handover_id, signed_by, signer_name):
    return d.handover_stream(handover_id), d.SignOffFinanceHandover(handover_id, signed_by, signer_name, sim.now)


def correct_command(sim: Simulation, *, item_id, correction_id, changes, reason, by):
    from services.lost_and_found.service import retention_policy
    return d.item_stream(item_id), d.CorrectFoundItem(item_id, correction_id, tuple(changes), reason, by,
                                                      d.TEAM_LEAD, sim.now, valuable_categories=VALUABLES,
                                                      retention=retention_policy(_CONFIG))


def void_command(sim: Simulation, *, item_id, duplicate_of: "Case", reason, by):
    facts = d.ItemFacts(duplicate_of.item_id, duplicate_of.short_code, duplicate_of.status)
    return d.item_stream(item_id), d.VoidFoundItem(item_id, reason, by, d.TEAM_LEAD, sim.now, facts,
                                                   duplicate_of.item_id)


def signature_command(sim: Simulation, *, document_id, part, signer_id, captured_by, stream=None, image=False):
    image_ref = "sha256:" + hashlib.sha256(f"{document_id}:{part}".encode()).hexdigest() if image else None
    return stream or d.item_stream(document_id), d.CaptureSignature(document_id, part, signer_id, captured_by,
                                                                   sim.now, image_ref)


def disposal_commands(sim: Simulation, *, disposal_id, route, receiver, custodian, lines):
    """The service's ``dispose_items`` run, as ``handover_commands``."""
    at, today = sim.now, sim.local_date(sim.now)
    stream = d.disposal_stream(disposal_id)
    steps = [(stream, d.DrawDisposalList(disposal_id, route, receiver, custodian, tuple(lines), at, today),
              d.disposal_command_id(disposal_id, "drawn"))]
    ids = tuple(line.item_id for line in lines)
    steps += [(d.item_stream(item_id), d.DisposeItem(item_id, disposal_id, route, custodian, at, today),
               d.disposal_command_id(disposal_id, item_id)) for item_id in ids]
    steps.append((stream, d.RecordDisposal(disposal_id, ids, (), at), d.disposal_command_id(disposal_id, "recorded")))
    return steps


def route_of(category: str) -> str:
    from services.lost_and_found.service import disposal_route
    return disposal_route(_CONFIG, category)


RECEIVERS = {d.POLICE: "景区派出所", d.ISSUING_BANK: "发卡银行景区网点", d.DESTROY: None}
CONDITIONS = ("外壳有划痕", "有点潮湿", "拉链坏了", "屏幕有裂纹", "表带磨损")


# -- the world's model of each case -------------------------------------------------------------
@dataclass
class Case:
    item_id: str
    desk: str
    channel: str
    thing: texts.Item
    registered_by: str
    valuable: bool
    retain_until: dt.date
    turned_in_on: dt.date
    short_code: str = ""
    status: str = d.HELD
    custodian_id: str | None = None
    matched_report: str | None = None    # an open report confirmed to it
    moving: bool = False                 # sent to another desk, not yet received there


CHANNELS = ((d.DESK_VISITOR, 0.5), (d.DESK_STAFF, 0.35), (d.ON_SITE, 0.15))


class LostAndFoundScenario:
    def __init__(self, sim: Simulation):
        self.sim = sim
        sim.service(SERVICE, d, d.EVENTS)
        self.cases: dict[str, Case] = {}
        self.open: dict[str, Case] = {}      # held or in custody
        self.codes: set[str] = set()         # short codes given, as the service's case index knows them
        self.handovers = 0

    # -- a day -----------------------------------------------------------------------------------
    def on_day(self, day: dt.date) -> None:
        sim = self.sim
        volume = sim.volume(day)
        for desk in sim.desks:
            for _ in range(sim.count(volume * desk.weight * FOUND_PER_UNIT)):
                self._plan_found_item(day, desk)
            for _ in range(sim.count(volume * desk.weight * LOST_ONLY_PER_UNIT)):
                self._plan_lost_only(day, desk)
        if day.day == 1:  # the custodian's monthly handover to finance
            sim.schedule(sim.local(day, 10.0), lambda: self._finance_handover(day))
        sim.schedule(sim.local(day, 18.0), self._evening_custody)

    def _busy_hour(self) -> float:
        """Visitors come 08:00-18:00, most around noon."""
        return min(max(self.sim.rng.triangular(8.0, 18.0, 12.5), 8.0), 17.9)

    def _plan_found_item(self, day: dt.date, desk) -> None:
        sim, rng = self.sim, self.sim.rng
        turned_in = sim.local(day, self._busy_hour())
        found_at = max(turned_in - rng.uniform(5, 180) * MINUTE, sim.local(day, 7.0))
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        thing = texts.item(rng)
        place = rng.choice(sim.places)
        item_id = sim.next_id("item")
        on_site_urgent = channel == d.ON_SITE and rng.random() < 0.5
        sim.schedule(turned_in, lambda: self._turn_in(item_id, desk, channel, thing, place, found_at, on_site_urgent))
        self._plan_paperwork(item_id, turned_in, channel, on_site_urgent)
        fate = rng.random()
        if on_site_urgent:
            sim.schedule(turned_in + rng.uniform(5, 20) * MINUTE, lambda: self._on_spot_claim(item_id))
        elif fate < 0.35:
            lost_at = found_at - rng.uniform(0, 120) * MINUTE
            reported = lost_at + rng.uniform(20, 240) * MINUTE
            report_id = sim.next_id("report")
            name, description, features = texts.visitor_description(rng, thing)
            place_said = rng.choice(place.aliases) if place.aliases and rng.random() < 0.4 else place.name
            window = (lost_at - rng.uniform(0, 120) * MINUTE, lost_at + rng.uniform(0, 60) * MINUTE)
            sim.schedule(reported, lambda: self._report(
                report_id, desk, thing.category, name, description, features, place_said, window))
            matched = max(reported, turned_in) + rng.uniform(5, 40) * MINUTE
            sim.schedule(matched, lambda: self._match_and_call(report_id, item_id, desk))
        elif fate < 0.6:
            delay = rng.choice((rng.uniform(0.5, 6) * HOUR, rng.uniform(1, 10) * DAY))
            sim.schedule(turned_in + delay, lambda: self._unreported_claim(item_id))
        elif thing.category not in VALUABLES and len(sim.desks) > 1 and rng.random() < 0.1:
            # nobody comes here: it is sent to another desk some days later
            sim.schedule(turned_in + rng.uniform(1, 5) * DAY, lambda: self._send(item_id))
        # else: nobody comes; a valuable goes to the custodian tonight, everything to finance later

    def _plan_paperwork(self, item_id, turned_in, channel, urgent) -> None:
        """Corrections, duplicates, an on-site item's way to the desk."""
        sim, rng = self.sim, self.sim.rng
        if rng.random() < 0.03:
            sim.schedule(turned_in + rng.uniform(10, 120) * MINUTE, lambda: self._correct(item_id))
        if rng.random() < 0.01:
            duplicate_id = sim.next_id("item")
            sim.schedule(turned_in + rng.uniform(1, 10) * MINUTE, lambda: self._duplicate(duplicate_id, item_id))
        if channel == d.ON_SITE and not urgent:
            sim.schedule(turned_in + rng.uniform(10, 40) * MINUTE, lambda: self._arrive(item_id))

    def _plan_lost_only(self, day: dt.date, desk) -> None:
        sim, rng = self.sim, self.sim.rng
        reported = sim.local(day, self._busy_hour())
        category, name, description, features = texts.unrelated_description(rng)
        lost_at = reported - rng.uniform(20, 300) * MINUTE
        window = (lost_at - rng.uniform(0, 120) * MINUTE, min(lost_at + rng.uniform(0, 60) * MINUTE, reported))
        report_id = sim.next_id("report")
        place = rng.choice(sim.places)
        sim.schedule(reported, lambda: self._report(report_id, desk, category, name, description, features,
                                                    place.name, window))

    # -- actions -----------------------------------------------------------------------------------
    def _clerk(self, desk) -> str:
        return self.sim.rng.choice(desk.clerks)

    def _run(self, stream_command, actor, desk=None, command_id=None, cosigner=None):
        """Run a command as ``actor`` (logged in at ``desk``), with a second
        person's own login where the service asks for one."""
        self.sim.login(actor, desk)
        if cosigner is not None:
            self.sim.login(cosigner, desk)
        stream, command = stream_command
        return self.sim.execute(SERVICE, stream, command, actor=actor, desk=desk, command_id=command_id)

    def _name(self, staff_id: str) -> str:
        """A staff member's name as the staff directory has it."""
        return self.sim.names.get(staff_id) or self.sim.names.setdefault(staff_id, texts.person_name(self.sim.rng))

    def _turn_in(self, item_id, desk, channel, thing, place, found_at, urgent) -> None:
        sim, rng = self.sim, self.sim.rng
        staff = sim.staff
        witness, registered_by, role = (None, None), self._clerk(desk), d.CLERK
        if channel == d.DESK_VISITOR:
            finder = ("visitor", None, texts.person_name(rng), texts.phone(rng) if rng.random() < 0.7 else None, None)
        else:
            finder_id, department = rng.choice(staff.others)
            finder = ("staff", finder_id, self._name(finder_id), None, department)
            if urgent:
                registered_by, role = rng.choice(staff.team_leads), d.TEAM_LEAD
                witness_id = next(s for s, _ in rng.sample(staff.others, 3) if s != finder_id)
                witness = (witness_id, self._name(witness_id))
        valuable = thing.category in VALUABLES
        storage = rng.choice(SAFE if valuable else STORAGE)
        code = next(c for c in (d.short_code(item_id, n) for n in range(50)) if c not in self.codes)
        result = self._run(turn_in_command(
            sim, item_id=item_id, desk=desk.id, channel=channel, thing=thing, found_place=place.name,
            found_at=found_at, finder=finder, registered_by=registered_by, registered_by_role=role,
            storage_place=storage, witness=witness, owner_urgent=urgent, short_code=code), registered_by, desk.id)
        turned_in = sim.decode(SERVICE, result.events[0])
        self.codes.add(turned_in.short_code)
        case = Case(item_id, desk.id, channel, thing, registered_by, valuable, turned_in.retain_until,
                    turned_in.business_date, turned_in.short_code)
        self.cases[item_id] = self.open[item_id] = case
        if rng.random() < 0.2:  # signed on the desk screen: the finder, then the clerk
            for part, signer in (("registration_finder", None), ("registration_clerk", registered_by)):
                self._run(signature_command(sim, document_id=item_id, part=part, signer_id=signer,
                                            captured_by=registered_by, image=rng.random() < 0.5),
                          registered_by, desk.id)

    def _report(self, report_id, desk, category, name, description, features, place, window) -> None:
        rng = self.sim.rng
        lost_from, lost_until = window
        lost_until = min(lost_until, self.sim.now)
        lost_from = min(lost_from, lost_until)
        clerk = self._clerk(desk)
        self._run(report_command(self.sim, report_id=report_id, desk=desk.id, name=name, category=category,
                                 description=description, features=features, lost_place=place, lost_from=lost_from,
                                 lost_until=lost_until, visitor=(texts.person_name(rng), texts.phone(rng)),
                                 clerk=clerk), clerk, desk.id)

    def _match_and_call(self, report_id, item_id, desk) -> None:
        sim, rng = self.sim, self.sim.rng
        case = self.cases.get(item_id)
        if case is None or case.status not in (d.HELD, d.IN_CUSTODY):
            return
        clerk = self._clerk(desk)
        task_id = f"contact-{sim.next_id('task')}"
        if case.matched_report is not None:
            return
        self._run(confirm_match_command(sim, report_id=report_id, item=case, task_id=task_id, clerk=clerk),
                  clerk, desk.id)
        case.matched_report = report_id
        if _released(report_id):  # the visitor looks at it: not theirs; the clerk takes the match back
            sim.schedule(sim.now + 30 * MINUTE, lambda: self._release(report_id, item_id, desk))
            return
        calls = rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0]
        at = sim.now
        for attempt in range(calls):
            at += rng.uniform(5, 90) * MINUTE
            outcome = d.REACHED if attempt == calls - 1 else rng.choice(("no_answer", "left_message"))
            sim.schedule(at, lambda outcome=outcome: self._call(report_id, task_id, desk, outcome))
        sim.schedule(at + rng.uniform(0.5, 30) * HOUR, lambda: self._verify_and_claim(item_id, desk, report_id))

    def _release(self, report_id, item_id, desk) -> None:
        case = self.cases[item_id]
        if case.matched_report != report_id or case.status not in (d.HELD, d.IN_CUSTODY):
            return
        clerk = desk.clerks[0]
        self._run(release_command(self.sim, report_id=report_id, item=case, clerk=clerk,
                                  reason="访客看过，不是其物品"), clerk, desk.id)
        case.matched_report = None

    def _call(self, report_id, task_id, desk, outcome) -> None:
        clerk = self._clerk(desk)
        self._run(contact_command(self.sim, report_id=report_id, task_id=task_id, clerk=clerk, outcome=outcome),
                  clerk, desk.id)

    def _claimant(self):
        rng = self.sim.rng
        id_type = rng.choices(("resident_id", "passport", "hk_macao_permit", "taiwan_permit"), (90, 5, 3, 2))[0]
        number = texts.id_number(rng) if id_type == "resident_id" else f"E{rng.randrange(10**8):08d}"
        return texts.person_name(rng), texts.phone(rng), id_type, number

    def _verify(self, case: Case, by, role, owner: bool, id_number: str) -> str:
        sim, rng = self.sim, self.sim.rng
        verification_id = f"verification-{sim.next_id('v')}"
        labels = [label for label, _ in case.thing.hidden]
        if owner:
            matched = rng.sample(labels, max(1, len(labels) - rng.randrange(len(labels)))) if labels else []
            _, description, _ = texts.visitor_description(rng, case.thing)
            decision = d.OWNER
        else:
            matched, description = [], texts.unrelated_description(rng)[2]
            decision = rng.choice((d.NOT_OWNER, d.NEEDS_MORE_PROOF))
        self._run(verification_command(sim, item_id=case.item_id, verification_id=verification_id,
                                       description=description, matched=matched, description_matched=owner,
                                       decision=decision, by=by, role=role, id_number=id_number), by, case.desk)
        return verification_id

    def _claim(self, case: Case, kind, by, role, report_id=None, mode=None) -> None:
        desk = next(desk for desk in self.sim.desks if desk.id == case.desk)
        if self.sim.rng.random() < 0.05:  # someone else first, who is not the owner
            self._verify(case, self._clerk(desk) if role == d.CLERK else by, role, owner=False,
                         id_number=f"G{self.sim.counter:08d}")
        claimant = self._claimant()
        verification_id = self._verify(case, by, role, owner=True, id_number=claimant[3])
        # in custody, or a valuable past its day: released only with a custodian's own login
        overdue = case.valuable and self.sim.local_date(self.sim.now) > case.turned_in_on
        custodian = case.custodian_id if case.status == d.IN_CUSTODY else \
            (self.sim.staff.custodian if overdue else None)
        stream, claim = claim_command(self.sim, item_id=case.item_id, claim_id=f"claim-{self.sim.next_id('c')}",
                                      verification_id=verification_id, kind=kind, claimant=claimant, by=by,
                                      role=role, desk=case.desk, report_id=report_id, custodian_id=custodian)
        sim, rng = self.sim, self.sim.rng
        if mode == "proxy":  # 代领: a tour guide for a visitor who went on with the group
            command = d.ClaimByProxy(claim, "tour_guide", "山水旅行社", texts.person_name(rng), texts.phone(rng),
                                     "message", "请导游代我领取", sim.now - rng.uniform(10, 60) * MINUTE)
        elif mode == "courier":  # the visitor has gone home: verified on the phone, sent by courier
            command = d.ArrangeCourierReturn(claim, f"courier-{sim.next_id('r')}", claimant[0], claimant[1],
                                             "浙江省杭州市西湖区某路8号", rng.choice(("visitor", "cash_on_delivery")),
                                             Decimal(rng.choice(("12", "18", "23"))), "CNY")
        else:
            command = claim
        self._run((stream, command), by, case.desk, cosigner=custodian)
        case.status = d.CLAIMED
        case.matched_report = None
        self.open.pop(case.item_id, None)
        if mode == "courier":
            sim.schedule(sim.now + rng.uniform(2, 20) * HOUR, lambda: self._run(
                (d.item_stream(case.item_id), d.RecordCourierDispatch(
                    case.item_id, command.return_id, "顺丰速运", f"SF{sim.counter:012d}", by, sim.now)), by, case.desk))
        elif rng.random() < 0.2:
            self._run(signature_command(sim, document_id=case.item_id, part="claim_claimant", signer_id=None,
                                        captured_by=by), by, case.desk)

    def _verify_and_claim(self, item_id, desk, report_id) -> None:
        case = self.cases.get(item_id)
        if case is not None and case.status in (d.HELD, d.IN_CUSTODY):
            self._claim(case, d.REPORTED, self._clerk(desk), d.CLERK, report_id)

    def _unreported_claim(self, item_id) -> None:
        case = self.cases.get(item_id)
        if case is not None and case.status in (d.HELD, d.IN_CUSTODY):
            desk = next(desk for desk in self.sim.desks if desk.id == case.desk)
            draw = self.sim.rng.random()
            mode = "proxy" if draw < 0.12 else "courier" if draw < 0.2 and case.status == d.HELD else None
            self._claim(case, d.UNREPORTED, self._clerk(desk), d.CLERK, mode=mode)

    def _on_spot_claim(self, item_id) -> None:
        sim, rng = self.sim, self.sim.rng
        case = self.cases.get(item_id)
        if case is None or case.status != d.HELD:
            return
        self._claim(case, d.ON_SPOT, case.registered_by, d.TEAM_LEAD)
        late = rng.random() < 0.1
        filed = sim.now + (rng.uniform(14, 30) * HOUR if late else rng.uniform(0.5, 4) * HOUR)
        desk = next(desk for desk in sim.desks if desk.id == case.desk)
        sim.schedule(filed, lambda: self._run(file_on_spot_command(sim, item_id=item_id, clerk=self._clerk(desk)),
                                              self._clerk(desk), desk.id))

    def _evening_custody(self) -> None:
        """Valuables turned in today and not claimed go to the custodian."""
        sim = self.sim
        today = sim.local_date(sim.now)
        for case in [c for c in self.open.values() if c.valuable and c.status == d.HELD and c.turned_in_on == today]:
            self._run(custody_command(sim, item_id=case.item_id, handed_by=case.registered_by,
                                      custodian=sim.staff.custodian, storage_place=sim.rng.choice(SAFE),
                                      desk=case.desk),
                      case.registered_by, case.desk, cosigner=sim.staff.custodian)
            case.status, case.custodian_id = d.IN_CUSTODY, sim.staff.custodian
            if sim.rng.random() < 0.5:
                self._run(signature_command(sim, document_id=case.item_id, part="custody_custodian",
                                            signer_id=sim.staff.custodian, captured_by=sim.staff.custodian),
                          sim.staff.custodian)

    def _finance_handover(self, day: dt.date) -> None:
        sim = self.sim
        due = [c for c in self.open.values()
               if d.retention_over(c.retain_until, day) and c.matched_report is None and not c.moving]
        for route in (d.POLICE, d.ISSUING_BANK, d.DESTROY):
            batch = [c for c in due if route_of(c.thing.category) == route]
            if batch:
                self._dispose(day, route, batch)
        due = [c for c in due if route_of(c.thing.category) == d.FINANCE_ROUTE]
        for start in range(0, len(due), HANDOVER_BATCH):
            batch = due[start:start + HANDOVER_BATCH]
            self.handovers += 1
            handover_id = f"handover-{day.strftime('%Y-%m')}-{self.handovers}"
            lines = [d.HandoverLine(c.item_id, c.status, c.retain_until) for c in batch]
            for stream, command, command_id in handover_commands(sim, handover_id=handover_id,
                                                                 custodian=sim.staff.custodian, lines=lines):
                sim.execute(SERVICE, stream, command, actor=sim.staff.custodian, command_id=command_id)
            for case in batch:
                case.status = d.WITH_FINANCE
                self.open.pop(case.item_id, None)
            signer = sim.rng.choice(sim.staff.finance)
            name = self._name(signer)
            sim.schedule(sim.now + sim.rng.uniform(2, 26) * HOUR,
                         lambda handover_id=handover_id, signer=signer, name=name: self._signed_off(
                             handover_id, signer, name))

    def _signed_off(self, handover_id, signer, name) -> None:
        sim = self.sim
        self._run(sign_off_command(sim, handover_id=handover_id, signed_by=signer, signer_name=name), signer)
        self._run(signature_command(sim, document_id=handover_id, part="handover_receiver", signer_id=signer,
                                    captured_by=signer, stream=d.handover_stream(handover_id)), signer)

    # -- what the paper forms carry ---------------------------------------------------------------
    def _lead(self) -> str:
        return self.sim.rng.choice(self.sim.staff.team_leads)

    def _correct(self, item_id) -> None:
        case = self.cases.get(item_id)
        if case is None or case.status not in (d.HELD, d.IN_CUSTODY):
            return
        sim, lead = self.sim, self._lead()
        self._run(correct_command(sim, item_id=item_id, correction_id=f"correction-{sim.next_id('k')}",
                                  changes=[("condition", sim.rng.choice(CONDITIONS))],
                                  reason="登记时漏填物品状况", by=lead), lead, case.desk)

    def _duplicate(self, duplicate_id, item_id) -> None:
        """The same item registered twice by two clerks; the second is voided."""
        case = self.cases.get(item_id)
        if case is None or case.status not in (d.HELD, d.IN_CUSTODY):
            return
        sim = self.sim
        desk = next(desk for desk in sim.desks if desk.id == case.desk)
        clerk = self._clerk(desk)
        code = next(c for c in (d.short_code(duplicate_id, n) for n in range(50)) if c not in self.codes)
        finder = ("visitor", None, texts.person_name(sim.rng), None, None)
        result = self._run(turn_in_command(
            sim, item_id=duplicate_id, desk=case.desk, channel=d.DESK_VISITOR, thing=case.thing,
            found_place=sim.places[0].name, found_at=sim.now - 30 * MINUTE, finder=finder, registered_by=clerk,
            registered_by_role=d.CLERK, storage_place=STORAGE[0], short_code=code), clerk, case.desk)
        self.codes.add(sim.decode(SERVICE, result.events[0]).short_code)
        lead = self._lead()
        self._run(void_command(sim, item_id=duplicate_id, duplicate_of=case, reason="同一物品重复登记", by=lead),
                  lead, case.desk)

    def _arrive(self, item_id) -> None:
        """An on-site item reaches the desk."""
        case = self.cases.get(item_id)
        if case is None or case.status != d.HELD:
            return
        desk = next(desk for desk in self.sim.desks if desk.id == case.desk)
        clerk = self._clerk(desk)
        self._run((d.item_stream(item_id), d.ReceiveItemAtDesk(item_id, case.desk, self.sim.rng.choice(STORAGE),
                                                                clerk, self.sim.now)), clerk, case.desk)

    def _send(self, item_id) -> None:
        case = self.cases.get(item_id)
        if case is None or case.status != d.HELD or case.moving:
            return
        sim = self.sim
        origin = next(desk for desk in sim.desks if desk.id == case.desk)
        target = sim.rng.choice([desk for desk in sim.desks if desk.id != case.desk])
        clerk = self._clerk(origin)
        self._run((d.item_stream(item_id), d.SendItemToDesk(item_id, target.id, "集中保管", clerk, sim.now)),
                  clerk, origin.id)
        case.moving = True
        sim.schedule(sim.now + sim.rng.uniform(30, 90) * MINUTE, lambda: self._received(item_id, target))

    def _received(self, item_id, target) -> None:
        case = self.cases[item_id]
        clerk = self._clerk(target)
        self._run((d.item_stream(item_id), d.ReceiveItemAtDesk(item_id, target.id, self.sim.rng.choice(STORAGE),
                                                                clerk, self.sim.now)), clerk, target.id)
        case.desk, case.moving = target.id, False

    def _dispose(self, day: dt.date, route: str, batch: list) -> None:
        sim = self.sim
        custodian = sim.staff.custodian
        self.handovers += 1
        disposal_id = f"disposal-{day.strftime('%Y-%m')}-{route}-{self.handovers}"
        lines = [d.HandoverLine(c.item_id, c.status, c.retain_until, None, route) for c in batch[:HANDOVER_BATCH]]
        for stream, command, command_id in disposal_commands(sim, disposal_id=disposal_id, route=route,
                                                             receiver=RECEIVERS[route], custodian=custodian,
                                                             lines=lines):
            sim.execute(SERVICE, stream, command, actor=custodian, command_id=command_id)
        for case in batch[:HANDOVER_BATCH]:
            case.status = d.DISPOSED
            self.open.pop(case.item_id, None)
        sim.schedule(sim.now + sim.rng.uniform(1, 8) * HOUR, lambda: self._disposal_signed(disposal_id, route))

    def _disposal_signed(self, disposal_id, route) -> None:
        sim, rng = self.sim, self.sim.rng
        custodian = sim.staff.custodian
        stream = d.disposal_stream(disposal_id)
        if route == d.DESTROY:
            witness = rng.choice(sim.staff.others)[0]
            self._run((stream, d.SignOffDisposal(disposal_id, custodian, sim.now, witness_id=witness,
                                                 witness_name=self._name(witness))), custodian, cosigner=witness)
            part, signer = "disposal_witness", witness
        else:
            self._run((stream, d.SignOffDisposal(disposal_id, custodian, sim.now, texts.person_name(rng),
                                                 f"NO.{rng.randrange(10 ** 6):06d}")), custodian)
            part, signer = "disposal_receiver", None
        self._run(signature_command(sim, document_id=disposal_id, part=part, signer_id=signer, captured_by=custodian,
                                    stream=stream), custodian)
