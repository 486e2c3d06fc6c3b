"""The daily overview: what needs a person today. Nothing waits silently: open calls, approvals and disputes
(with who sorts them out and by when), payment plans debtors asked for, letters not yet posted, debtors on
credit hold, gaps and unconfirmed unverified rows in the law's rate tables and the messages they hold; and the
link to the Prefect UI's list of the runs that wait for a person, by the tags those runs carry. In the
installation's language (settings.toml `language`)."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import holds, human_tasks, plans, policies
from dunning.domain import markdown as md
from dunning.domain.ladder import asked_on, plan_request_ends
from dunning.domain.time import local
from dunning.law import rate_table_warnings
from dunning.messaging import print_queue
from dunning.messaging.sending import HELD_KEY
from dunning.storage.config import Installation
from dunning.storage.models import DossierEntry, Invoice

# What a paused run waits for, as a tag on the run in the Prefect UI's run list (tasks/run_tags.py sets them):
# a person (one of AWAITING) or the calendar (WAITING), never both, and none while the run goes on.
AWAITING = {
    "call": "awaiting:call",
    "approval": "awaiting:approval",
    "dispute": "awaiting:dispute",
    "payment-match": "awaiting:payment-match",
}
WAITING = "waiting"
# The debtor's name on the invoice run: a flow run has no description the UI shows, and its name is the invoice
# number, so the name is a tag, shown beside `debtor:<number>` (the sweep's) in the run list.
DEBTOR_NAME = "debtor-name:"
_NAME_LENGTH = 100
# A paused run may wait for years (flows/collect_invoice.py PAUSE_TIMEOUT): the classic UI's run list shows the
# runs started in the past week unless told otherwise, so its links ask for the past ten years.
_TEN_YEARS = 3650 * 24 * 3600


def run_tags(tags: list[str], pause: str | None = None, debtor_name: str | None = None) -> list[str]:
    """`tags` with `pause` (one of AWAITING's, or WAITING) as the only pause tag, none when it is None, and the
    debtor's name when given; every other tag (`debtor:<number>`, `payment`, the deployment's) kept in its
    place. The same tags in give the same tags out, so a replay changes nothing."""
    pauses = {*AWAITING.values(), WAITING}
    kept = [t for t in tags if t not in pauses and not (debtor_name is not None and t.startswith(DEBTOR_NAME))]
    if debtor_name is not None and (name := " ".join(debtor_name.split())[:_NAME_LENGTH]):
        kept.append(DEBTOR_NAME + name)
    if pause is not None:
        kept.append(pause)
    return kept


def ui_url(inst: Installation) -> str:
    """The Prefect UI of this installation: its API's address without /api."""
    return inst.prefect_api_url.rstrip("/").removesuffix("/api")


def needs_a_person_url(ui: str, tags: tuple[str, ...] = tuple(AWAITING.values())) -> str:
    """The UI's list of the suspended runs that carry any of `tags`, of any age: the Prefect UI of 3.8.8 at
    /v2/runs (the one a browser opens at first), whose `tags` filter is a comma-separated list of which a run
    needs one. (The classic UI's tag filter wants all of them at once: `runs_tagged_url`.) Suspended only: a
    resumed run keeps its tag until it starts, and a run ended from outside (a bank line decided with the CLI)
    keeps it for good."""
    return f"{ui}/v2/runs?tags={quote(','.join(tags), safe=':,')}&state=Suspended"


def runs_tagged_url(ui: str, tag: str) -> str:
    """The classic UI's list (at /runs) of the suspended runs that carry `tag`, started in the last ten years."""
    return f"{ui}/runs?tag={quote(tag, safe=':')}&state=Suspended&type=span&seconds=-{_TEN_YEARS}"


def build(session: Session, inst: Installation, now: datetime) -> dict:
    today = local(now).date()
    tasks = [
        {
            "invoice": t.invoice.number,
            "debtor": t.invoice.debtor.name,
            "kind": t.kind.value,
            "step": str(t.step),
            "days_open": (today - local(t.created_at).date()).days,
            "responsible": t.assignee,
            "due_on": t.due_on.isoformat() if t.due_on else None,
            "overdue": t.due_on is not None and t.due_on < today,
            "also_for": [j.invoice.number for j in human_tasks.joined_to(session, t)],
        }
        for t in human_tasks.all_open(session)
    ]
    plan_requests = [_plan_request(r, inst, today) for r in plans.requested(session)]
    letters = [
        {
            "invoice": print_queue.invoice_number(session, m),
            "step": str(m.step),
            "printed_on": print_queue.printed_on(m).isoformat(),
            "days_waiting": (today - print_queue.printed_on(m)).days,
            "file": str(print_queue.file_for(inst, m)),
        }
        for m in print_queue.waiting(session)
    ]
    on_hold = [
        {"debtor": d.number, "name": d.name, "since": local(d.hold_since).date().isoformat(), "reason": d.hold_reason}
        for d in holds.on_hold(session)
        if d.hold_since is not None
    ]
    warnings = [w for k in ("commercial", "non-commercial") for w in rate_table_warnings(k, today, inst.law_dir)]
    warnings += _held_for_rates(session, warnings)
    ui = ui_url(inst)
    return {
        "date": today.isoformat(),
        "language": inst.language,
        "needs_a_person": {
            "all": needs_a_person_url(ui),
            **{what: runs_tagged_url(ui, tag) for what, tag in AWAITING.items()},
        },
        "tasks": tasks,
        "plan_requests": plan_requests,
        "letters": letters,
        "holds": on_hold,
        "warnings": warnings,
    }


def _held_for_rates(session: Session, rate_warnings: list[str]) -> list[str]:
    """One line per message of an open invoice held for an unconfirmed rate row (`sending.Held`), while a row it
    waits for is still named among `rate_warnings`."""
    query = (
        select(DossierEntry, Invoice)
        .join(Invoice, Invoice.id == DossierEntry.invoice_id)
        .where(DossierEntry.key.contains(f":{HELD_KEY}:"), Invoice.closed_reason.is_(None))
        .order_by(DossierEntry.id)
    )
    lines = []
    for entry, invoice in session.execute(query):
        rows = [r for r in (entry.data or {}).get("unconfirmed_rates", [])
                if any(f"rate from {r['from']} " in w and f" {r['table']} " in w for w in rate_warnings)]
        if rows:
            waits = ", ".join(r["row"] for r in rows)
            lines.append(f"warning: the {(entry.data or {}).get('step')} of invoice {invoice.number} is held until "
                         f"a person confirms {waits}")
    return lines


def _plan_request(r: plans.PlanRequest, inst: Installation, today: date) -> dict:
    policy = policies.policy_for(inst.home, r.invoice.debtor.number)
    ends = local(plan_request_ends(r.call, policy)).date()
    return {
        "invoice": r.invoice.number,
        "debtor": r.invoice.debtor.name,
        "asked_on": asked_on(r.call).isoformat(),
        "by": r.by,
        "escalation_waits_until": ends.isoformat(),
        "escalation_went_on": ends <= today,
    }


_KINDS = {"en": {}, "nl": {"call": "gesprek", "approval": "akkoord", "dispute": "betwisting"}}
_WORDS = {
    "en": {
        "title": "Daily overview",
        "needs": "Runs waiting for a person",
        "all": "All runs waiting for a person",
        "all_what": "calls, approvals, disputes, payments to match",
        "classic": "in the classic UI",
        "call": "calls", "approval": "approvals", "dispute": "disputes", "payment-match": "payments to match",
        "tasks": "Open tasks",
        "task": "{kind} **{invoice}** ({debtor}): {step}, open {days} day(s)",
        "also": ", also for {invoices}",
        "due": "; {who} sorts it out by {due}",
        "nobody": "nobody named",
        "overdue": " — **overdue**",
        "none": "_None._",
        "plans": "Payment plans asked for",
        "asked": "**{invoice}** ({debtor}): asked on {on}",
        "asked_by": " (call by {by})",
        "went_on": "; not agreed, so escalation went on on {on}",
        "waits": "; escalation waits until {on}",
        "agree": " — agree it with `dunning plan {invoice} --instalment DATE=AMOUNT ...`",
        "letters": "Letters to post",
        "letter": "**{invoice}** {step}, printed {on}",
        "late": " — **not posted for {days} day(s)**: its run waits; posting it late voids it and a new one is printed",
        "holds": "Credit holds",
        "hold": "{debtor} {name}, since {since}: {reason}",
        "warnings": "Warnings",
    },
    "nl": {
        "title": "Dagoverzicht",
        "needs": "Runs die op iemand wachten",
        "all": "Alle runs die op iemand wachten",
        "all_what": "gesprekken, akkoorden, betwistingen, betalingen om te koppelen",
        "classic": "in de klassieke UI",
        "call": "gesprekken", "approval": "akkoorden", "dispute": "betwistingen",
        "payment-match": "betalingen om te koppelen",
        "tasks": "Open taken",
        "task": "{kind} **{invoice}** ({debtor}): {step}, {days} dag(en) open",
        "also": ", ook voor {invoices}",
        "due": "; {who} handelt het af uiterlijk {due}",
        "nobody": "niemand genoemd",
        "overdue": " — **te laat**",
        "none": "_Geen._",
        "plans": "Gevraagde betalingsregelingen",
        "asked": "**{invoice}** ({debtor}): gevraagd op {on}",
        "asked_by": " (gesprek door {by})",
        "went_on": "; niet afgesproken, dus de escalatie ging verder op {on}",
        "waits": "; de escalatie wacht tot {on}",
        "agree": " — spreek hem af met `dunning plan {invoice} --instalment DATUM=BEDRAG ...`",
        "letters": "Brieven om te posten",
        "letter": "**{invoice}** {step}, afgedrukt {on}",
        "late": " — **{days} dag(en) niet gepost**: de run wacht; later posten maakt de brief ongeldig en er wordt "
                "een nieuwe afgedrukt",
        "holds": "Kredietstops",
        "hold": "{debtor} {name}, sinds {since}: {reason}",
        "warnings": "Waarschuwingen",
    },
}


def _in_code(text: str) -> str:
    """Text inside a Markdown code span shows as written; only a backtick could end the span."""
    return " ".join(str(text).replace("`", "'").split())


def as_markdown(o: dict, language: str | None = None) -> str:
    """The overview as Markdown, in `language` or else the one `build` found in the installation's settings."""
    language = language or o.get("language") or "nl"
    w, kinds = _WORDS[language], _KINDS[language]
    lines = [f"# {w['title']} {o['date']}", ""]
    if links := o.get("needs_a_person"):
        classic = " · ".join(f"[{w[what]}]({links[what]})" for what in AWAITING if what in links)
        lines += [f"## {w['needs']}", "", f"[{w['all']}]({links['all']}) ({w['all_what']}); {w['classic']}: {classic}",
                  ""]
    lines += [f"## {w['tasks']}", ""]
    lines += [
        "- " + w["task"].format(kind=kinds.get(t["kind"], t["kind"]), invoice=md.text(t["invoice"]),
                                debtor=md.text(t["debtor"]), step=t["step"], days=t["days_open"])
        + (w["also"].format(invoices=", ".join(md.text(i) for i in t["also_for"])) if t.get("also_for") else "")
        + (w["due"].format(who=md.text(t["responsible"]) or w["nobody"], due=t["due_on"]) if t.get("due_on") else "")
        + (w["overdue"] if t.get("overdue") else "")
        for t in o["tasks"]
    ] or [w["none"]]
    lines += ["", f"## {w['plans']}", ""]
    lines += [
        "- " + w["asked"].format(invoice=md.text(r["invoice"]), debtor=md.text(r["debtor"]), on=r["asked_on"])
        + (w["asked_by"].format(by=md.text(r["by"])) if r.get("by") else "")
        + (w["went_on"] if r["escalation_went_on"] else w["waits"]).format(on=r["escalation_waits_until"])
        + w["agree"].format(invoice=_in_code(r["invoice"]))
        for r in o.get("plan_requests", [])
    ] or [w["none"]]
    lines += ["", f"## {w['letters']}", ""]
    lines += [
        "- " + w["letter"].format(invoice=md.text(x["invoice"]), step=x["step"], on=x["printed_on"])
        + (w["late"].format(days=x["days_waiting"]) if x["days_waiting"] else "")
        + f" (`{_in_code(x['file'])}`)"
        for x in o["letters"]
    ] or [w["none"]]
    lines += ["", f"## {w['holds']}", ""]
    lines += [
        "- " + w["hold"].format(debtor=md.text(h["debtor"]), name=md.text(h["name"]), since=h["since"],
                                reason=md.text(h["reason"]))
        for h in o["holds"]
    ] or [w["none"]]
    if o["warnings"]:
        lines += ["", f"## {w['warnings']}", "", *(f"- {x}" for x in o["warnings"])]
    return "\n".join(lines) + "\n"
